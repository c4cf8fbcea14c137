"""Readers for single-channel needle-EMG recordings: WFDB, EDF/EDF+ and raw int16.

Every reader returns a :class:`Recording`: samples as float64 in microvolts when the gain is
known (``calibrated=True``) or in ADC units otherwise, the sampling rate, and what was noticed
on the way (clipped samples, an outlying first sample).  Truncated or inconsistent files raise
:class:`~edxreview._errors.SignalFileError` with a message naming the file and the problem.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from edxreview._errors import InvalidParameterError, SignalFileError

logger = logging.getLogger(__name__)

SignalFormat = Literal["auto", "wfdb", "edf", "raw"]
_FORMATS = ("auto", "wfdb", "edf", "raw")

# WFDB physical units -> factor to microvolts (matched case-insensitively: real headers write "mv").
_UNIT_TO_UV = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1e3, "v": 1e6}


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


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        import difflib

        close = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(
            f"{name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}.{hint}"
        )


def _check_positive(name: str, value: float | None) -> None:
    if value is None:
        return
    if not np.isfinite(value) or value <= 0:
        raise InvalidParameterError(f"{name}={value!r} must be a positive number.")


def read_signal(
    path: str | Path,
    format: SignalFormat = "auto",
    fs_hz: float | None = None,
    gain_adu_per_mv: float | None = None,
    drop_first: bool | None = None,
) -> Recording:
    """Read a single-channel needle-EMG recording.

    Parameters
    ----------
    path : str or Path
        A WFDB header (``.hea``) or its data file (``.dat``), an EDF/EDF+ file (``.edf``) or a
        headerless little-endian int16 file (any other suffix, or ``format="raw"``).
    format : {"auto", "wfdb", "edf", "raw"}
        File format; ``"auto"`` decides from the suffix and the presence of a ``.hea`` header.
    fs_hz : float, optional
        Sampling rate (Hz). Required for raw files; ignored for WFDB and EDF (the header rules).
    gain_adu_per_mv : float, optional
        ADC units per millivolt. For raw files, without it the recording stays uncalibrated (ADC
        units). For WFDB it overrides the header gain.
    drop_first : bool, optional
        Replace the first sample by the second (raw files from some systems carry an unrelated
        first sample). Default: True for raw files, False otherwise.

    Returns
    -------
    Recording

    Raises
    ------
    SignalFileError
        The file is missing, truncated, or its header is inconsistent.
    InvalidParameterError
        An argument is out of range (unknown format, non-positive ``fs_hz``...).
    """
    _check_choice("format", format, _FORMATS)
    _check_positive("fs_hz", fs_hz)
    _check_positive("gain_adu_per_mv", gain_adu_per_mv)
    p = Path(path)
    fmt = format
    if fmt == "auto":
        suffix = p.suffix.lower()
        if suffix in (".edf", ".bdf") :
            fmt = "edf"
        elif suffix == ".hea" or (suffix in (".dat", "") and p.with_suffix(".hea").exists()):
            fmt = "wfdb"
        else:
            fmt = "raw"
    if fmt == "wfdb":
        rec = _read_wfdb(p, gain_adu_per_mv)
    elif fmt == "edf":
        rec = _read_edf(p)
    else:
        if fs_hz is None:
            raise InvalidParameterError(
                f"{p.name}: a raw int16 file has no header; give its sampling rate with "
                "fs_hz (command line: --fs HZ)."
            )
        rec = _read_raw(p, fs_hz, gain_adu_per_mv, True if drop_first is None else drop_first)
    if drop_first and fmt != "raw" and rec.samples.size > 1:
        rec.samples[0] = rec.samples[1]
    _flag_clipping(rec)
    return rec


# --------------------------------------------------------------------------------------- raw
def _read_raw(
    p: Path, fs_hz: float, gain_adu_per_mv: float | None, drop_first: bool
) -> Recording:
    if not p.is_file():
        raise SignalFileError(f"{p}: file not found.")
    nbytes = p.stat().st_size
    if nbytes == 0:
        raise SignalFileError(f"{p}: the file is empty.")
    if nbytes % 2:
        raise SignalFileError(
            f"{p}: {nbytes} bytes is not a whole number of int16 samples; the file is "
            "truncated or not raw int16."
        )
    adu = np.fromfile(p, dtype="<i2")
    x = adu.astype(np.float64)
    notes = []
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


# -------------------------------------------------------------------------------------- WFDB
_WFDB_FORMATS = {"16": "<i2", "61": ">i2", "80": "u1", "8": None}


def _parse_wfdb_header(hea: Path) -> tuple[list[str], list[str]]:
    try:
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


def _read_wfdb(p: Path, gain_override: float | None) -> Recording:
    hea = p.with_suffix(".hea") if p.suffix.lower() != ".hea" else p
    if not hea.is_file():
        raise SignalFileError(f"{p}: WFDB header {hea.name!r} not found beside the data file.")
    records, comments = _parse_wfdb_header(hea)
    if len(records) < 2:
        raise SignalFileError(f"{hea}: the header has no signal line.")
    rec_fields = records[0].split()
    if len(rec_fields) < 3:
        raise SignalFileError(
            f"{hea}: record line {records[0]!r} must give name, number of signals and "
            "sampling rate."
        )
    try:
        n_sig = int(rec_fields[1])
        fs_hz = float(rec_fields[2].split("/")[0])
        n_samples_hdr = int(rec_fields[3]) if len(rec_fields) > 3 else None
    except ValueError:
        raise SignalFileError(f"{hea}: cannot parse the record line {records[0]!r}.") from None
    if n_sig < 1 or len(records) - 1 < n_sig:
        raise SignalFileError(
            f"{hea}: the record line announces {n_sig} signal(s) but {len(records) - 1} "
            "signal line(s) follow."
        )
    if n_sig > 1:
        logger.info("%s: %d signals; reading the first", hea.name, n_sig)
    sig = records[1].split()
    if len(sig) < 2:
        raise SignalFileError(f"{hea}: signal line {records[1]!r} lacks a storage format.")
    dat = hea.with_name(sig[0])
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
    gain = 200.0
    units = "mV"
    baseline = 0.0
    if len(sig) > 2:
        m = re.match(r"^([-+0-9.eE]+)(?:\(([-+0-9]+)\))?(?:/(\S+))?$", sig[2])
        if not m:
            raise SignalFileError(f"{hea}: cannot parse the gain field {sig[2]!r}.")
        gain = float(m.group(1)) or 200.0
        if m.group(2):
            baseline = float(m.group(2))
        if m.group(3):
            units = m.group(3)
    adc_zero = float(sig[4]) if len(sig) > 4 else 0.0
    if len(sig) > 2 and not re.search(r"\(", sig[2]):
        baseline = adc_zero
    factor = _UNIT_TO_UV.get(units.lower())
    if factor is None:
        raise SignalFileError(
            f"{hea}: physical units {units!r} are not a voltage; expected uV, mV or V."
        )
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
    if fmt == "80":
        adu = np.fromfile(dat, dtype="u1").astype(np.float64) - 128.0
    else:
        adu = np.fromfile(dat, dtype=_WFDB_FORMATS[fmt]).astype(np.float64)
    if n_samples_hdr:
        adu = adu[:n_samples_hdr]
    if adu.size == 0:
        raise SignalFileError(f"{dat}: the data file holds no samples.")
    if len(sig) > 5 and sig[5].lstrip("-").isdigit() and n_samples_hdr:
        first = float(sig[5])
        if first != adu[0]:
            raise SignalFileError(
                f"{dat}: first sample {adu[0]:.0f} differs from the header's initial value "
                f"{first:.0f}; wrong storage format or byte order?"
            )
    gain_used = gain_override if gain_override is not None else gain
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
    rec.clip_value = (lo, hi)
    return rec


# --------------------------------------------------------------------------------------- EDF
def _read_edf(p: Path) -> Recording:
    import edfio

    if not p.is_file():
        raise SignalFileError(f"{p}: file not found.")
    try:
        edf = edfio.read_edf(p)
    except Exception as exc:  # edfio raises ValueError and others for broken files
        raise SignalFileError(f"{p}: not a readable EDF/EDF+ file ({exc}).") from None
    signals = [s for s in edf.signals]
    if not signals:
        raise SignalFileError(f"{p}: the EDF file holds no signals.")
    s = signals[0]
    factor = _UNIT_TO_UV.get(str(s.physical_dimension).strip().lower())
    data = np.asarray(s.data, dtype=np.float64)
    if data.size == 0:
        raise SignalFileError(f"{p}: the first signal {s.label!r} has no samples.")
    calibrated = factor is not None
    notes = []
    if calibrated:
        data = data * factor
    else:
        notes.append(
            f"physical dimension {s.physical_dimension!r} is not a voltage: amplitudes are "
            "kept as stored"
        )
    dmin, dmax = s.digital_min, s.digital_max
    pmin, pmax = s.physical_min, s.physical_max
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
    except Exception:  # patient field not EDF+ conformant: fine, no metadata
        pass
    rec = Recording(
        samples=data,
        fs_hz=float(s.sampling_frequency),
        calibrated=calibrated,
        name=p.stem,
        path=str(p),
        gain_adu_per_mv=adu_per_mv,
        metadata=meta,
        notes=notes,
    )
    rec.clip_value = (lo, hi)
    return rec


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
