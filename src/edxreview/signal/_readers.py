"""Readers for single-channel needle-EMG recordings: WFDB, EDF/EDF+, raw int16 and ASCII
(one sample in µV per line).

Every reader returns a :class:`Recording`: samples as float64 in microvolts when the gain is
known (``calibrated=True``) or in ADC units otherwise, the sampling rate, and what was noticed
on the way (clipped samples, an outlying first sample).  Truncated or inconsistent files raise
:class:`~edxreview._errors.SignalFileError` with a message naming the file and the problem.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from edxreview._check import check_option
from edxreview._errors import InvalidParameterError, SignalFileError

logger = logging.getLogger(__name__)

SignalFormat = Literal["auto", "wfdb", "edf", "raw", "ascii"]
_FORMATS = ("auto", "wfdb", "edf", "raw", "ascii")
#: suffixes read as ASCII text by ``format="auto"``
_ASCII_SUFFIXES = (".txt", ".asc", ".ascii")
#: longest ASCII line accepted per sample (a number in µV needs far fewer characters): bounds the
#: file size read before any parsing, as MAX_SAMPLES bounds the samples
_MAX_ASCII_LINE = 64

# WFDB physical units -> factor to microvolts (matched case-insensitively: real headers write "mv").
_UNIT_TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1e3, "v": 1e6}

# Technical limits of what the readers accept (properties of the software, not clinical values).
#: sampling rates (Hz) a needle-EMG recording can have: below 1 kHz the MUAP spike (energy up to
#: several kHz) is not represented and the detection band cannot be built; above 1 MHz a value is
#: a units mistake (kHz for Hz) or a damaged header
FS_RANGE_HZ = (1_000.0, 1_000_000.0)
#: ADC units per mV: outside this a 16-bit converter's full scale would be under 0.03 µV or over
#: 30 kV, which only a damaged header or a units mistake gives (and amplitudes overflow)
GAIN_RANGE_ADU_PER_MV = (1e-3, 1e9)
#: most samples read from one recording (28 min at 10 kHz; 128 MiB as float64): the analysis keeps
#: several float64 copies of the signal, so longer files are refused before anything is read
MAX_SAMPLES = 2**24
#: largest WFDB header read (real ones are a few hundred bytes)
MAX_HEADER_BYTES = 1024**2
#: most signals an EDF header may declare (bounds the header read: 256 bytes per signal)
_MAX_EDF_SIGNALS = 4096


def _check_range(value: float | None, where: str, bounds: tuple[float, float], what: str,
                 give: str) -> None:
    if value is None:
        return
    lo, hi = bounds
    if not _in_range(value, lo, hi):
        raise InvalidParameterError(
            f"{where}={value!r} is not {what} edxreview accepts: give {give}, between {lo:g} "
            f"and {hi:g}.")


def check_header_bytes(value: int, where: str = "header_bytes") -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is an even whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value % 2:
        raise InvalidParameterError(
            f"{where}={value!r} must be an even whole number of bytes, 0 or more (raw samples "
            "are 2 bytes each).")


def check_sampling_rate(value: float | None, where: str = "fs_hz") -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is in :data:`FS_RANGE_HZ`."""
    _check_range(value, where, FS_RANGE_HZ, "a sampling rate", "the rate in Hz")


def check_gain(value: float | None, where: str = "gain_adu_per_mv") -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is in :data:`GAIN_RANGE_ADU_PER_MV`."""
    _check_range(value, where, GAIN_RANGE_ADU_PER_MV, "a gain", "ADC units per mV")


def _in_range(value: object, lo: float, hi: float) -> bool:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(v) and lo <= v <= hi)


def _check_length(where: object, n_samples: int) -> None:
    if n_samples > MAX_SAMPLES:
        raise SignalFileError(
            f"{where}: {n_samples} samples is more than edxreview reads from one recording "
            f"(MAX_SAMPLES = {MAX_SAMPLES}); cut the recording into shorter files.")


@dataclass
class Recording:
    """One single-channel EMG recording.

    Attributes
    ----------
    samples : numpy.ndarray
        Signal, float64: microvolts when ``calibrated`` else ADC units.
    fs_hz : float
        Sampling rate (Hz).
    calibrated : bool
        True when the gain was known and ``samples`` are in microvolts.
    name : str
        File stem.
    path : str
        File the recording came from.
    gain_adu_per_mv : float or None
        Gain used to convert ADC units to millivolts.
    clipped_fraction : float
        Fraction of samples at the digital full scale (0 when none).
    clip_value : tuple of float or None
        (low, high) full-scale values seen, in the units of ``samples``.
    metadata : dict
        Header comments parsed into key/value pairs where recognisable (``age``, ``muscle``...).
    notes : list of str
        Things noticed while reading (clipping, replaced first sample).

    Examples
    --------
    >>> import numpy as np
    >>> from edxreview.signal import Recording
    >>> rec = Recording(samples=np.zeros(40_000), fs_hz=20_000.0, calibrated=True, name="demo")
    >>> rec.duration_s, rec.unit
    (2.0, 'uV')
    """

    samples: np.ndarray
    fs_hz: float
    calibrated: bool
    name: str
    path: str = ""
    gain_adu_per_mv: float | None = None
    clipped_fraction: float = 0.0
    clip_value: tuple[float, float] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def unit(self) -> str:
        """``"uV"`` when calibrated, else ``"adu"``."""
        return "uV" if self.calibrated else "adu"

    @property
    def duration_s(self) -> float:
        """Length of the recording (s)."""
        return self.samples.size / self.fs_hz

    @property
    def clipped_mask(self) -> np.ndarray:
        """Boolean mask of samples at the full-scale value."""
        if self.clip_value is None:
            return np.zeros(self.samples.size, dtype=bool)
        lo, hi = self.clip_value
        return (self.samples <= lo) | (self.samples >= hi)


def resolve_format(path: str | Path, format: SignalFormat = "auto", header_bytes: int = 0,
                   gain_adu_per_mv: float | None = None) -> str:
    """The format :func:`read_signal` reads ``path`` as, decided without reading the file.

    ``"auto"``: ``.edf`` / ``.bdf`` EDF; ``.hea``, or ``.dat`` / no suffix beside a ``.hea``,
    WFDB; ``.txt`` / ``.asc`` / ``.ascii`` ASCII (unless ``header_bytes`` or a gain is given);
    anything else raw int16. Any other ``format`` is returned as it is.

    Examples
    --------
    >>> from edxreview.signal._readers import resolve_format
    >>> resolve_format("MD001.txt"), resolve_format("N2001A01BB01.bin"), resolve_format("x.edf")
    ('ascii', 'raw', 'edf')
    """
    if format != "auto":
        return format
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".edf", ".bdf"):
        return "edf"
    if suffix == ".hea" or (suffix in (".dat", "") and p.with_suffix(".hea").exists()) \
            or _record_header(p).exists():
        return "wfdb"
    if suffix in _ASCII_SUFFIXES and not header_bytes and gain_adu_per_mv is None:
        return "ascii"
    return "raw"


def read_signal(
    path: str | Path,
    format: SignalFormat = "auto",
    fs_hz: float | None = None,
    gain_adu_per_mv: float | None = None,
    drop_first: bool | None = None,
    header_bytes: int = 0,
) -> Recording:
    """Read a single-channel needle-EMG recording.

    Parameters
    ----------
    path : str or Path
        A WFDB header (``.hea``) or its data file (``.dat``), an EDF/EDF+ file (``.edf``), an
        ASCII text file of samples in µV, one per line (``.txt``, ``.asc``, ``.ascii`` or
        ``format="ascii"``; lines starting with ``#`` and blank lines are skipped), or a
        headerless little-endian int16 file (any other suffix, or ``format="raw"``).
    format : {"auto", "wfdb", "edf", "raw", "ascii"}
        File format; ``"auto"`` decides from the suffix and the presence of a ``.hea`` header.
    fs_hz : float, optional
        Sampling rate (Hz). Required for raw and ASCII files; ignored for WFDB and EDF (the
        header rules).
    gain_adu_per_mv : float, optional
        ADC units per millivolt. For raw files, without it the recording stays uncalibrated (ADC
        units). For WFDB it overrides the header gain, and the recording's notes say so. Not for
        ASCII files (already in µV) nor EDF files (calibrated by their header).
    drop_first : bool, optional
        Replace the first sample by the second (raw files from some systems carry an unrelated
        first sample). Default: True for raw files without ``header_bytes``, False otherwise.
    header_bytes : int, default 0
        Bytes of a raw file's own header to skip before the samples (an even number; the EMGLAB
        N2001 files carry a 20-byte header).

    Returns
    -------
    Recording

    Raises
    ------
    SignalFileError
        The file is missing, truncated, longer than :data:`MAX_SAMPLES`, or its header is
        inconsistent or out of range (a sampling rate outside :data:`FS_RANGE_HZ`, a gain outside
        :data:`GAIN_RANGE_ADU_PER_MV`, a data file outside the header's folder).
    InvalidParameterError
        An argument is out of range (unknown format, ``fs_hz`` outside :data:`FS_RANGE_HZ`...).

    Examples
    --------
    >>> import numpy as np
    >>> from edxreview.signal import read_signal
    >>> np.zeros(20_000, dtype="<i2").tofile("quiet.bin")  # 1 s of int16 samples
    >>> rec = read_signal("quiet.bin", format="raw", fs_hz=20_000, gain_adu_per_mv=1000)
    >>> rec.duration_s, rec.calibrated
    (1.0, True)
    >>> read_signal("quiet.bin", format="raw")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    edxreview._errors.InvalidParameterError: ...
    """
    check_option("format", format, _FORMATS)
    check_header_bytes(header_bytes)
    if header_bytes and format not in ("raw", "auto"):
        raise InvalidParameterError("header_bytes applies to raw int16 files only.")
    if format == "ascii" and gain_adu_per_mv is not None:
        raise InvalidParameterError(
            f"gain_adu_per_mv={gain_adu_per_mv!r} does not apply to an ASCII file: its samples "
            "are read as microvolts; leave the gain out.")
    check_sampling_rate(fs_hz)
    check_gain(gain_adu_per_mv)
    p = Path(path)
    fmt = resolve_format(p, format, header_bytes, gain_adu_per_mv)
    if fmt == "edf" and gain_adu_per_mv is not None:
        raise InvalidParameterError(
            f"gain_adu_per_mv={gain_adu_per_mv!r} does not apply to the EDF file {p.name!r}: its "
            "header's physical range calibrates it; leave the gain out.")
    if fmt == "wfdb":
        rec = _read_wfdb(p, gain_adu_per_mv)
    elif fmt == "edf":
        rec = _read_edf(p)
    elif fmt == "ascii":
        if fs_hz is None:
            raise InvalidParameterError(
                f"{p.name}: an ASCII file of samples has no header; give its sampling rate "
                "with fs_hz (command line: --fs HZ).")
        rec = _read_ascii(p, fs_hz)
    else:
        if fs_hz is None:
            raise InvalidParameterError(
                f"{p.name}: a raw int16 file has no header; give its sampling rate with "
                "fs_hz (command line: --fs HZ)."
            )
        if drop_first is None:
            drop_first = header_bytes == 0
        rec = _read_raw(p, fs_hz, gain_adu_per_mv, drop_first, header_bytes)
    if drop_first and fmt != "raw" and rec.samples.size > 1:
        rec.samples[0] = rec.samples[1]
    _flag_clipping(rec)
    return rec


# --------------------------------------------------------------------------------------- raw
def _read_raw(
    p: Path, fs_hz: float, gain_adu_per_mv: float | None, drop_first: bool, header_bytes: int = 0
) -> Recording:
    if not p.is_file():
        raise SignalFileError(f"{p}: file not found.")
    nbytes = p.stat().st_size - header_bytes
    if nbytes <= 0:
        raise SignalFileError(
            f"{p}: the file is empty" + (f" after its {header_bytes}-byte header." if header_bytes
                                         else "."))
    if nbytes % 2:
        raise SignalFileError(
            f"{p}: {nbytes} bytes is not a whole number of int16 samples; the file is "
            "truncated or not raw int16."
        )
    _check_length(p, nbytes // 2)
    x = np.memmap(p, dtype="<i2", mode="r", offset=header_bytes).astype(np.float64)
    notes = [f"first {header_bytes} bytes skipped (file header)"] if header_bytes else []
    if drop_first and x.size > 1:
        x[0] = x[1]
        notes.append("first sample ignored (replaced by the second)")
    calibrated = gain_adu_per_mv is not None
    if calibrated:
        x *= 1e3 / gain_adu_per_mv
    else:
        notes.append("no gain given: amplitudes are in ADC units")
    rec = Recording(
        samples=x,
        fs_hz=float(fs_hz),
        calibrated=calibrated,
        name=p.stem,
        path=str(p),
        gain_adu_per_mv=gain_adu_per_mv,
        notes=notes,
    )
    # full scale of a 16-bit converter, in the recording's units
    scale = (1e3 / gain_adu_per_mv) if calibrated else 1.0
    rec.clip_value = (-32768 * scale, 32767 * scale)
    return rec


# ------------------------------------------------------------------------------------- ASCII
def _read_ascii(p: Path, fs_hz: float) -> Recording:
    """Samples in µV, one per line (as the Algiers laboratory exports them); ``#`` lines and
    blank lines are skipped. A line that is not one finite number is refused with its number."""
    if not p.is_file():
        raise SignalFileError(f"{p}: file not found.")
    size = p.stat().st_size
    if size > MAX_SAMPLES * _MAX_ASCII_LINE:
        raise SignalFileError(
            f"{p}: {size} bytes is more than edxreview reads from one ASCII recording "
            f"({MAX_SAMPLES} samples of at most {_MAX_ASCII_LINE} characters); cut the recording "
            "into shorter files.")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignalFileError(
            f"{p}: byte {exc.start} is not text (UTF-8); an ASCII recording holds one sample in "
            "µV per line. A binary file needs --format raw or wfdb.") from None
    lines = text.splitlines()
    stripped = [ln.strip() for ln in lines]
    keep = [i for i, ln in enumerate(stripped) if ln and not ln.startswith("#")]
    if not keep:
        raise SignalFileError(f"{p}: the file holds no samples (an ASCII recording holds one "
                              "sample in µV per line).")
    _check_length(p, len(keep))
    values = [stripped[i] for i in keep]
    try:
        x = np.array(values, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(x))
    except ValueError:
        x, bad = None, None
    if bad is None or bad.size:
        for j, v in enumerate(values):
            try:
                ok = np.isfinite(float(v))
            except ValueError:
                ok = False
            if not ok:
                raise SignalFileError(
                    f"{p}: line {keep[j] + 1}: {lines[keep[j]]!r} is not a finite number; an "
                    "ASCII recording holds one sample in µV per line (lines starting with # "
                    "are skipped).")
    rec = Recording(samples=x, fs_hz=float(fs_hz), calibrated=True, name=p.stem, path=str(p),
                    notes=["ASCII samples read as µV"])
    return rec


# -------------------------------------------------------------------------------------- WFDB
_WFDB_FORMATS = {"16": "<i2", "61": ">i2", "80": "u1", "8": None}


def _parse_wfdb_header(hea: Path) -> tuple[list[str], list[str]]:
    try:
        st = hea.stat()
        if not stat.S_ISREG(st.st_mode):   # a pipe or a device would be read without end
            raise SignalFileError(f"{hea}: the WFDB header is not a regular file.")
        size = st.st_size
        if size > MAX_HEADER_BYTES:
            raise SignalFileError(
                f"{hea}: {size} bytes is too large for a WFDB header (MAX_HEADER_BYTES = "
                f"{MAX_HEADER_BYTES}); is it the data file?")
        raw = hea.read_bytes()
    except OSError as exc:
        raise SignalFileError(f"{hea}: cannot read the header ({exc.strerror}).") from None
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = re.split(r"\r\n|\r|\n", text)
    records, comments = [], []
    for line in lines:
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            comments.append(s.lstrip("#").strip())
        else:
            records.append(s)
    return records, comments


def _parse_comments(comments: list[str]) -> dict[str, str]:
    meta: dict[str, str] = {}
    text = " ".join(comments)
    for m in re.finditer(r"<([^>]+)>:\s*([^<]*)", text):
        meta[m.group(1).strip().lower()] = m.group(2).strip()
    for c in comments:
        m = re.match(r"^([A-Za-z][\w \-]*):\s*(.+)$", c)
        if m and "<" not in c:
            meta[m.group(1).strip().lower()] = m.group(2).strip()
    if "age" in meta:
        m = re.search(r"\d+(\.\d+)?", meta["age"])
        if m:
            meta["age"] = m.group(0)
    blob = " ".join(comments).lower()
    if "muscle" not in meta:
        m = re.search(r"placed in ([a-z ]+?) muscle", blob)
        if m:
            meta["muscle"] = m.group(1).strip()
    return meta


def _finite(text: str, kind: type) -> float | None:
    """``kind(text)`` when it parses to a finite number, else None."""
    try:
        value = kind(text)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def _header_number(hea: Path, field: str, text: str, kind: type) -> float:
    """A number of a WFDB header, or a :class:`SignalFileError` naming the field and the text."""
    value = _finite(text, kind)
    if value is None:
        raise SignalFileError(
            f"{hea}: the {field} field {text!r} is not a "
            f"{'whole number' if kind is int else 'finite number'}.")
    return value


def _data_file(hea: Path, name: str) -> Path:
    """The data file a WFDB signal line names: a file in the header's folder, never outside it."""
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise SignalFileError(
            f"{hea}: the signal line names the data file {name!r}, which is outside the "
            "header's folder; edxreview reads only data files beside (or below) their header. "
            "Move the data file next to the header and name it without a folder.")
    return hea.parent.joinpath(*[x for x in parts if x not in ("", ".")])


def _record_header(p: Path) -> Path:
    """The header of a WFDB record given by its name, suffix left off: ``c.0`` is ``c.0.hea``
    (the dot of a record name is no suffix)."""
    return p.with_name(p.name + ".hea")


def wfdb_header(p: Path) -> Path:
    """The ``.hea`` header of the WFDB record ``p`` names: ``p`` itself, the header beside its
    ``.dat``, or, for the record's name given without a suffix, ``<name>.hea``."""
    if p.suffix.lower() == ".hea":
        return p
    if p.suffix.lower() in (".dat", "") and p.with_suffix(".hea").exists():
        return p.with_suffix(".hea")
    return _record_header(p) if _record_header(p).exists() else p.with_suffix(".hea")


def record_name(path: str | Path) -> str:
    """The name of the recording ``path`` holds, as :attr:`Recording.name` gives it: a WFDB
    record's name (``c.0`` for ``c.0.hea``, ``c.0.dat`` or ``c.0`` beside ``c.0.hea``), else
    the file's name without its suffix.

    Examples
    --------
    >>> from edxreview.signal._readers import record_name
    >>> record_name("N2001A01BB01.bin"), record_name("MD001.hea"), record_name("c.0.hea")
    ('N2001A01BB01', 'MD001', 'c.0')
    """
    p = Path(path)
    if p.suffix.lower() not in (".hea", ".dat") and _record_header(p).exists():
        return p.name
    return p.stem


def recording_names(paths: list[str | Path]) -> list[str]:
    """A distinct name for each recording of one run, in the order given.

    A recording is named as :func:`record_name` names it (the WFDB record's name, else the
    file's name without its suffix), except where that name is shared with another recording
    of the run, ignoring case: those recordings are named by their whole file name (ASCII
    files ``c.0`` and ``c.1``, both ``c`` without the suffix, are ``c.0`` and ``c.1``). A run
    whose names are distinct already is named as before, so a --subjects table keeps matching.

    Parameters
    ----------
    paths : list of str or Path
        The recordings, each once (a WFDB record by one of its paths).

    Returns
    -------
    list of str
        One name per path, no two equal when case is ignored (names become file names, e.g.
        of the figures, and a file system may ignore case).

    Raises
    ------
    InvalidParameterError
        Two recordings would still be named alike: the same file name in two folders (or
        names that differ only in case); the message names both files.

    Examples
    --------
    >>> from edxreview.signal._readers import recording_names
    >>> recording_names(["c.0", "c.1", "N2001A01BB01.bin"])
    ['c.0', 'c.1', 'N2001A01BB01']
    >>> recording_names(["a/c.0", "a/c.1", "a/c.0.txt"])
    ['c.0', 'c.1', 'c.0.txt']
    """
    given = [Path(p) for p in paths]
    names = [record_name(p) for p in given]
    while True:   # a full name may meet another file's short one (c.0 beside c.0.txt); each
        # pass only turns short names into full ones, so it ends
        folded = [n.casefold() for n in names]
        new = [p.name if folded.count(f) > 1 else n for p, n, f in zip(given, names, folded)]
        if new == names:
            break
        names = new
    seen: dict[str, Path] = {}
    for p, n in zip(given, names):
        first = seen.setdefault(n.casefold(), p)
        if first is not p:
            other = names[given.index(first)]
            alike = (f"both be named {n!r}" if other == n else
                     f"be named {other!r} and {n!r}, which differ only in case (one file "
                     "name where a file system ignores case)")
            raise InvalidParameterError(
                f"recordings {str(first)!r} and {str(p)!r} would {alike}: a recording is named "
                "by its file name (without the suffix where that alone tells the recordings "
                "apart), and the rows of recordings.csv, muaps.csv and emg_rows.csv, the "
                "--subjects table and the figures could not tell these two apart. Rename one "
                "of the files, or analyse them in separate runs.")
    return names


def recording_files(path: str | Path, format: SignalFormat = "auto", header_bytes: int = 0,
                    gain_adu_per_mv: float | None = None) -> list[Path]:
    """Every file the recording ``path`` consists of, for a command to check that its output
    overlaps none of them; decided without reading the samples.

    A WFDB record (however it is given: its header, its data file or its name without a
    suffix) is its header, every data file its signal lines name (which may have another name
    than the record, or lie in a folder below the header) and every other file of the record
    beside the header (``<record>.*``: annotations such as ``.atr``; folders so named are no
    file of it); any other recording is
    the file itself. A header that cannot be read adds only the usual data file,
    ``<record>.dat``: reading it fails later, before anything is written.

    Examples
    --------
    >>> from pathlib import Path
    >>> from edxreview.signal._readers import recording_files
    >>> _ = Path("c.0.hea").write_text("c.0 1 10000 4\\nsignal.bin 16 1000 16 0\\n")
    >>> sorted(p.name for p in recording_files("c.0"))
    ['c.0', 'c.0.dat', 'c.0.hea', 'signal.bin']
    """
    import glob

    p = Path(path)
    if resolve_format(p, format, header_bytes, gain_adu_per_mv) != "wfdb":
        return [p]
    hea = wfdb_header(p)
    record = hea.stem
    files = [p, hea, hea.with_name(f"{record}.dat")]   # the usual data file, even if unnamed
    try:
        records, _ = _parse_wfdb_header(hea)
        n_sig, _, _ = _wfdb_record_line(hea, records)   # the reader's own checks
        files += [_data_file(hea, line.split()[0]) for line in records[1:1 + n_sig]]
    except (SignalFileError, IndexError):   # the reader refuses it before anything is written
        pass
    # the record's other files, not a folder named like them (e.g. an earlier --out rec.res)
    files += sorted(Path(f) for f in glob.glob(glob.escape(str(hea.parent / record)) + ".*")
                    if not os.path.isdir(f))
    return list(dict.fromkeys(files))


def _read_wfdb(p: Path, gain_override: float | None) -> Recording:
    hea = wfdb_header(p)
    if not hea.is_file():
        raise SignalFileError(f"{p}: WFDB header {hea.name!r} " + (
            "is not a regular file (a pipe or a device?)." if hea.exists()
            else "not found beside the data file."))
    records, comments = _parse_wfdb_header(hea)
    if len(records) < 2:
        raise SignalFileError(f"{hea}: the header has no signal line.")
    n_sig, fs_hz, n_samples_hdr = _wfdb_record_line(hea, records)
    sig, dat, fmt = _wfdb_signal_line(hea, records, n_sig)
    gain, baseline, factor = _wfdb_calibration(hea, records, sig)
    adu = _wfdb_samples(hea, dat, fmt, sig, n_samples_hdr)
    # the override is per mV (as documented); the header's gain is per physical unit
    gain_used = gain if gain_override is None else gain_override * (factor / 1e3)
    # gain is ADC units per physical unit; convert to ADU per mV for the record.
    adu_per_mv = gain_used / (factor / 1e3)
    x = (adu - baseline) / gain_used * factor
    full = 127.0 if fmt == "80" else 32767.0
    lo = (-(full + 1) - baseline) / gain_used * factor
    hi = (full - baseline) / gain_used * factor
    rec = Recording(
        samples=x,
        fs_hz=fs_hz,
        calibrated=True,
        name=hea.stem,
        path=str(hea),
        gain_adu_per_mv=adu_per_mv,
        metadata=_parse_comments(comments),
    )
    if gain_override is not None:  # never changed silently: the header's gain is named
        header = gain / (factor / 1e3)
        rec.notes.append(f"gain {gain_override:g} ADC units/mV from --gain (gain_adu_per_mv) "
                         f"overrides the header's {header:g}/mV")
    rec.clip_value = (lo, hi)
    return rec


def _wfdb_record_line(hea: Path, records: list[str]) -> tuple[int, float, int | None]:
    """Number of signals, sampling rate and number of samples (``None`` when not given)."""
    rec_fields = records[0].split()
    if len(rec_fields) < 3:
        raise SignalFileError(
            f"{hea}: record line {records[0]!r} must give name, number of signals and "
            "sampling rate."
        )
    n_sig = _header_number(hea, "number of signals", rec_fields[1], int)
    fs_hz = _header_number(hea, "sampling frequency", rec_fields[2].split("/")[0], float)
    n_samples_hdr = (_header_number(hea, "number of samples", rec_fields[3], int)
                     if len(rec_fields) > 3 else None)
    try:
        check_sampling_rate(fs_hz, "sampling frequency")
    except InvalidParameterError as exc:
        raise SignalFileError(f"{hea}: record line {records[0]!r}: {exc}") from None
    if n_samples_hdr is not None and n_samples_hdr < 0:
        raise SignalFileError(
            f"{hea}: record line {records[0]!r}: number of samples {n_samples_hdr} is negative; "
            "it must be the signal's length (or 0 when unknown).")
    if n_sig < 1 or len(records) - 1 < n_sig:
        raise SignalFileError(
            f"{hea}: the record line announces {n_sig} signal(s) but {len(records) - 1} "
            "signal line(s) follow."
        )
    return n_sig, fs_hz, n_samples_hdr


def _wfdb_signal_line(hea: Path, records: list[str], n_sig: int) -> tuple[list[str], Path, str]:
    """The first signal line's fields, its data file and storage format (one we read)."""
    if n_sig > 1:
        logger.info("%s: %d signals; reading the first", hea.name, n_sig)
    sig = records[1].split()
    if len(sig) < 2:
        raise SignalFileError(f"{hea}: signal line {records[1]!r} lacks a storage format.")
    dat = _data_file(hea, sig[0])
    fmt = re.match(r"\d+", sig[1])
    fmt = fmt.group(0) if fmt else sig[1]
    if fmt not in ("16", "61", "80"):
        raise SignalFileError(
            f"{hea}: WFDB storage format {fmt!r} is not supported; supported formats are "
            "16 (int16 little-endian), 61 (int16 big-endian) and 80 (8-bit offset)."
        )
    if n_sig > 1:
        if any(r.split()[0] == sig[0] for r in records[2 : 1 + n_sig]):
            raise SignalFileError(
                f"{hea}: multiplexed multi-signal WFDB files are not supported; export one "
                "channel per file."
            )
    return sig, dat, fmt


def _wfdb_calibration(hea: Path, records: list[str], sig: list[str]) -> tuple[float, float, float]:
    """Gain (ADC units per physical unit), baseline and the physical unit in µV."""
    gain = 200.0
    units = "mV"
    baseline = 0.0
    if len(sig) > 2:
        m = re.match(r"^([-+0-9.eE]+)(?:\(([-+0-9]+)\))?(?:/(\S+))?$", sig[2])
        if not m:
            raise SignalFileError(f"{hea}: cannot parse the gain field {sig[2]!r}.")
        # 0 means "not given": WFDB's default gain, 200 ADC units per physical unit
        gain = _header_number(hea, "gain", m.group(1), float) or 200.0
        if m.group(2):
            baseline = _header_number(hea, "baseline", m.group(2), float)
        if m.group(3):
            units = m.group(3)
    adc_zero = _header_number(hea, "ADC zero", sig[4], float) if len(sig) > 4 else 0.0
    if len(sig) > 2 and not re.search(r"\(", sig[2]):
        baseline = adc_zero
    factor = _UNIT_TO_UV.get(units.lower())
    if factor is None:
        raise SignalFileError(
            f"{hea}: physical units {units!r} are not a voltage; expected uV, mV or V."
        )
    try:
        check_gain(gain / (factor / 1e3), "gain (ADC units per mV)")
    except InvalidParameterError as exc:
        raise SignalFileError(f"{hea}: signal line {records[1]!r}: {exc}") from None
    return gain, baseline, factor


def _wfdb_samples(hea: Path, dat: Path, fmt: str, sig: list[str], n_samples_hdr: int | None) -> np.ndarray:
    """The first signal's samples in ADC units, checked against the header."""
    if not dat.is_file():
        raise SignalFileError(f"{hea}: data file {dat.name!r} not found.")
    nbytes = dat.stat().st_size
    bps = 1 if fmt == "80" else 2
    if nbytes % bps:
        raise SignalFileError(
            f"{dat}: {nbytes} bytes is not a whole number of {bps}-byte samples; the file "
            "is truncated."
        )
    n_avail = nbytes // bps
    if n_samples_hdr is not None and n_samples_hdr > 0:
        if n_avail < n_samples_hdr:
            raise SignalFileError(
                f"{dat}: the header announces {n_samples_hdr} samples but the file holds "
                f"{n_avail}; the file is truncated."
            )
    n_read = n_samples_hdr if n_samples_hdr else n_avail
    if n_read == 0:
        raise SignalFileError(f"{dat}: the data file holds no samples.")
    _check_length(dat, n_read)
    # memory-mapped: only the samples used are read, never the whole file into memory first
    if fmt == "80":
        adu = np.memmap(dat, dtype="u1", mode="r", shape=(n_read,)).astype(np.float64) - 128.0
    else:
        adu = np.memmap(dat, dtype=_WFDB_FORMATS[fmt], mode="r", shape=(n_read,)).astype(np.float64)
    if len(sig) > 5 and sig[5].lstrip("-").isdigit() and n_samples_hdr:
        first = float(sig[5])
        if first != adu[0]:
            raise SignalFileError(
                f"{dat}: first sample {adu[0]:.0f} differs from the header's initial value "
                f"{first:.0f}; wrong storage format or byte order?"
            )
    return adu


# --------------------------------------------------------------------------------------- EDF
def _read_edf(p: Path) -> Recording:
    import edfio

    if not p.is_file():
        raise SignalFileError(f"{p}: file not found.")
    _check_edf_layout(p)
    try:
        with warnings.catch_warnings():
            # edfio warns and carries on where the header and the file disagree; that was
            # refused above, with the field named
            warnings.simplefilter("ignore")
            edf = edfio.read_edf(p)
    except Exception as exc:  # noqa: BLE001 - boundary: edfio raises many types (ValueError,
        # IndexError, struct errors…) for a broken file a user gives us
        raise SignalFileError(f"{p}: not a readable EDF/EDF+ file ({exc}).") from None
    try:
        signals = [s for s in edf.signals]
        if not signals:
            raise SignalFileError(f"{p}: the EDF file holds no signals.")
        s = signals[0]
        label, dimension = s.label, str(s.physical_dimension)
        data = np.asarray(s.data, dtype=np.float64)
        dmin, dmax = s.digital_min, s.digital_max
        pmin, pmax = s.physical_min, s.physical_max
        fs_hz = float(s.sampling_frequency)
        per_record, duration = s.samples_per_data_record, edf.data_record_duration
    except (ValueError, TypeError, ArithmeticError, UnicodeDecodeError) as exc:
        # edfio parses header fields when they are first used
        raise SignalFileError(f"{p}: a signal header field cannot be read ({exc}).") from None
    factor = _UNIT_TO_UV.get(dimension.strip().lower())
    if data.size == 0:
        raise SignalFileError(f"{p}: the first signal {label!r} has no samples.")
    calibrated = factor is not None
    notes = []
    if calibrated:
        data = data * factor
    else:
        notes.append(
            f"physical dimension {dimension!r} is not a voltage: amplitudes are kept as stored"
        )
    f = factor or 1.0
    lo, hi = sorted((pmin * f, pmax * f))
    adu_per_mv = None
    if calibrated and pmax != pmin:
        adu_per_mv = (dmax - dmin) / ((pmax - pmin) * f / 1e3)
    meta = {}
    try:
        pat = edf.patient
        if getattr(pat, "age", None) is not None:
            meta["age"] = str(pat.age)
    except (ValueError, TypeError, AttributeError, IndexError):  # patient field not EDF+
        # conformant (edfio parses it on first use): fine, no metadata
        pass
    try:
        check_sampling_rate(fs_hz, "sampling frequency")
    except InvalidParameterError as exc:
        raise SignalFileError(
            f"{p}: signal {label!r}: {exc} (the header gives {per_record} samples per data "
            f"record of {duration!r} s)") from None
    rec = Recording(
        samples=data,
        fs_hz=fs_hz,
        calibrated=calibrated,
        name=p.stem,
        path=str(p),
        gain_adu_per_mv=adu_per_mv,
        metadata=meta,
        notes=notes,
    )
    rec.clip_value = (lo, hi)
    return rec


def _check_edf_layout(p: Path) -> None:
    """Check an EDF header against the file's size before any sample is read.

    The fixed header (EDF specification, Kemp et al. 1992) gives the number of data records,
    their duration and each signal's samples per record; the file must hold exactly that many
    records, and the first ordinary signal no more than :data:`MAX_SAMPLES` samples.
    """
    size = p.stat().st_size
    with open(p, "rb") as fh:
        head = fh.read(256)
        if len(head) < 256:
            raise SignalFileError(f"{p}: not a readable EDF/EDF+ file (the 256-byte header is "
                                  f"incomplete: {len(head)} bytes).")
        n_signals = _edf_field(p, head, 252, 256, "number of signals", int)
        if not 0 < n_signals <= _MAX_EDF_SIGNALS:
            raise SignalFileError(f"{p}: the EDF header's number of signals {n_signals} is not "
                                  f"between 1 and {_MAX_EDF_SIGNALS} (_MAX_EDF_SIGNALS).")
        signal_head = fh.read(256 * n_signals)
    if len(signal_head) < 256 * n_signals:
        raise SignalFileError(f"{p}: the EDF header is cut short: {n_signals} signal(s) need "
                              f"{256 * (n_signals + 1)} header bytes, the file has {size}.")
    bytes_per_sample = 3 if head[:1] == b"\xff" else 2  # BDF stores 24-bit samples
    n_records = _edf_field(p, head, 236, 244, "number of data records", int)
    duration = _edf_field(p, head, 244, 252, "duration of a data record", float)
    labels = [signal_head[16 * i:16 * (i + 1)].decode("latin-1").strip()
              for i in range(n_signals)]
    offset = 216 * n_signals
    per_record = [_edf_field(p, signal_head, offset + 8 * i, offset + 8 * (i + 1),
                             f"samples per data record of signal {labels[i]!r}", int, 256)
                  for i in range(n_signals)]
    for i in range(n_signals):
        for name, start, kind in (("physical minimum", 104, float),
                                  ("physical maximum", 112, float),
                                  ("digital minimum", 120, int), ("digital maximum", 128, int)):
            at = start * n_signals + 8 * i
            _edf_field(p, signal_head, at, at + 8, f"{name} of signal {labels[i]!r}", kind, 256)
    if any(n < 0 for n in per_record):
        raise SignalFileError(f"{p}: a signal has a negative number of samples per data record.")
    record_bytes = bytes_per_sample * sum(per_record)
    data_bytes = size - 256 * (n_signals + 1)
    if record_bytes == 0:
        raise SignalFileError(f"{p}: the EDF data records hold no samples.")
    held, rest = divmod(data_bytes, record_bytes)
    announced = held if n_records == -1 else n_records  # -1: unknown while still recording
    if announced < 0 or held != announced or rest:
        raise SignalFileError(
            f"{p}: the EDF header announces {n_records} data record(s) of {record_bytes} bytes "
            f"but the file holds {held}" + (f" and {rest} byte(s) more" if rest else "")
            + ("; the file is truncated." if held < announced else "; the header and the file "
               "disagree (a damaged or unfinished file)."))
    n_records = announced
    first = next((i for i, label in enumerate(labels) if label != "EDF Annotations"), None)
    if first is not None:
        _check_length(p, per_record[first] * n_records)
        at = 120 * n_signals + 8 * first
        digital = [_edf_field(p, signal_head, a, a + 8, "digital range", int, 256)
                   for a in (at, at + 8 * n_signals)]
        if digital[1] <= digital[0]:
            raise SignalFileError(
                f"{p}: signal {labels[first]!r}: the digital maximum {digital[1]} must be "
                f"above the digital minimum {digital[0]}.")
        at = 104 * n_signals + 8 * first
        physical = [_edf_field(p, signal_head, a, a + 8, "physical range", float, 256)
                    for a in (at, at + 8 * n_signals)]
        if physical[0] == physical[1]:
            raise SignalFileError(
                f"{p}: signal {labels[first]!r}: the physical minimum and maximum are both "
                f"{physical[0]!r}; the samples cannot be converted to a physical unit.")
        if not (np.isfinite(duration) and duration > 0):
            raise SignalFileError(
                f"{p}: the EDF header's duration of a data record {duration!r} s must be a "
                "positive number of seconds.")


def _edf_field(p: Path, block: bytes, start: int, end: int, field: str, kind: type,
               base: int = 0):
    text = block[start:end].decode("latin-1").strip()
    value = _finite(text, kind)
    if value is None:
        raise SignalFileError(
            f"{p}: the EDF header's {field} {text!r} (bytes {base + start}-{base + end}) is not a "
            f"{'whole number' if kind is int else 'number'}.")
    return value


def _flag_clipping(rec: Recording) -> None:
    """Flag samples at the converter's full scale, or flat-topped at the record's extremes.

    An amplifier can saturate below the converter's range; then the signal sits on one value
    for consecutive samples at its minimum or maximum. Both kinds count as clipped.
    """
    x = rec.samples
    if x.size == 0:
        raise SignalFileError(f"{rec.path}: no samples.")
    if not np.all(np.isfinite(x)):
        raise SignalFileError(f"{rec.path}: the signal holds non-finite values.")
    lo, hi = rec.clip_value if rec.clip_value is not None else (-np.inf, np.inf)
    tol = 1e-9 * max(abs(lo) if np.isfinite(lo) else 1.0, abs(hi) if np.isfinite(hi) else 1.0)
    mask = (x <= lo + tol) | (x >= hi - tol)
    for v in (x.min(), x.max()):
        eq = x == v
        n_eq = int(np.count_nonzero(eq))
        if n_eq >= 3 and np.count_nonzero(eq[1:] & eq[:-1]) >= 2:
            mask |= eq
            lo, hi = (v, hi) if v == x.min() else (lo, v)
    n = int(np.count_nonzero(mask))
    rec.clipped_fraction = n / x.size
    if n:
        rec.clip_value = (lo, hi)
        rec.notes.append(
            f"clipping: {n} sample(s) ({100 * rec.clipped_fraction:.2f} %) at full scale; "
            "amplitudes of the affected discharges are underestimated"
        )
