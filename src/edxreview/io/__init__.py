"""Read and validate study workbooks (``.xlsx`` or a folder of CSV/Parquet files)."""

from ._read import RawWorkbook, normalize_header, read_workbook
from ._schema import SHEETS
from ._template import write_template
from ._validate import Study, validate_workbook


def load_study(path):
    """Read and validate a study workbook in one call.

    Parameters
    ----------
    path : str or Path
        ``.xlsx`` workbook or folder of ``<sheet>.csv`` files.

    Returns
    -------
    Study

    Raises
    ------
    InvalidWorkbookError
        With every problem found.
    """
    return validate_workbook(read_workbook(path))


__all__ = ["RawWorkbook", "SHEETS", "Study", "load_study", "normalize_header", "read_workbook",
           "validate_workbook", "write_template"]
