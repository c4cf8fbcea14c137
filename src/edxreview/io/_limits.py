"""Technical limits on the size of an input, so that no file can make a read run out of memory or
time. These bound the work, not the data's meaning: each is far above any real study and each is
named in the message that refuses an input beyond it.
"""

from __future__ import annotations

#: bytes of one input file: an ``.xlsx`` workbook, or one ``.csv`` / ``.parquet`` sheet file
MAX_FILE_BYTES = 2 * 1024**3

#: bytes of an ``.xlsx`` workbook once unzipped (the sum of its members' declared sizes)
MAX_XLSX_UNCOMPRESSED_BYTES = 64 * 1024**2

#: uncompressed size ÷ compressed size of one ``.xlsx`` member larger than
#: :data:`RATIO_CHECKED_FROM_BYTES`; spreadsheets compress about 5–30 fold, zip bombs
#: a thousand fold
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM_BYTES = 1024**2

#: bytes of one Parquet sheet once decompressed
MAX_PARQUET_UNCOMPRESSED_BYTES = 2 * 1024**3

#: rows of one sheet (Excel's own limit for a worksheet is 1,048,576)
MAX_ROWS = 20_000_000
XLSX_MAX_ROWS = 1_048_576

#: columns of one sheet (a study sheet has at most 14 defined columns; Excel allows 16,384)
MAX_COLUMNS = 256
XLSX_MAX_COLUMNS = 16_384

#: cells stored in one worksheet of an ``.xlsx``, empty ones included (each costs microseconds
#: to parse; a real sheet of 64 MiB holds about 3 million)
XLSX_MAX_CELLS = 4_000_000

#: cells of one sheet (rows × columns of the table read into memory)
MAX_CELLS = 50_000_000

#: characters in one cell (Excel's own limit for a cell)
MAX_CELL_CHARS = 32_767


def format_bytes(n: int) -> str:
    """``n`` bytes for a message: ``'256 MiB'``."""
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.3g} {unit}" if value < 100 else f"{value:,.0f} {unit}"
    return f"{n} bytes"

#: misspelt names given "did you mean" suggestions in one validation (each costs milliseconds;
#: a sheet of a million distinct misspellings would otherwise take half an hour)
MAX_SUGGESTIONS = 1_000
