"""Agreement between the software's classifications and those of human readers.

A reader file (``.csv`` or ``.xlsx``) holds one row per reader and patient: ``patient_id``,
``reader``, any of the six patient-level classifications (yes/no, true/false, 1/0; an empty cell
means the reader did not classify that item) and an optional ``comment``. The software's
classifications come from a results folder's ``patients.csv``.

For every classification and every pair of raters (the software counts as a rater named
``software``) :func:`compute_agreement` gives the number of patients both classified, the percent
agreement, Cohen's κ with its asymptotic 95 % CI (statsmodels) and Gwet's AC1 with its 95 % CI
(Gwet 2008); with three or more raters also Fleiss' κ over the patients all of them classified.
:func:`find_disagreements` lists each patient and classification on which the raters differ.

References
----------
Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas 1960;20:37-46.
Fleiss JL. Measuring nominal scale agreement among many raters. Psychol Bull 1971;76:378-382.
Gwet KL. Computing inter-rater reliability and its variance in the presence of high agreement.
Br J Math Stat Psychol 2008;61:29-48.
"""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
# SciPy is imported by the functions that use it: a review's partition workers import
# this module and run none of them

from .._errors import InvalidInputError, InvalidParameterError, Problem

#: the six patient-level classifications a reader may give
CLASSIFICATIONS = ("emg_denervation", "ncs_neuropathy", "denervation_explained_by_ncs",
                   "ncs_abnormal_without_denervation", "lmn_involvement",
                   "lmn_with_corresponding_mri")
#: the name the software's classifications carry among the raters
SOFTWARE = "software"
_TRUE = frozenset({"yes", "y", "true", "1", "1.0"})
_FALSE = frozenset({"no", "n", "false", "0", "0.0"})
_KNOWN = ("patient_id", "reader", "comment", *CLASSIFICATIONS)

AGREEMENT_COLUMNS = [
    "classification", "rater_a", "rater_b", "n_raters", "n", "n_agree", "percent_agreement",
    "kappa", "kappa_se", "kappa_ci_low", "kappa_ci_high", "kappa_method",
    "ac1", "ac1_se", "ac1_ci_low", "ac1_ci_high"]


def read_software(results_dir: str | Path) -> pd.DataFrame:
    """The software's classifications of the included patients, from ``patients.csv``.

    Parameters
    ----------
    results_dir : str or Path
        The output folder of ``edxreview run`` or :meth:`edxreview.StudyResult.write`.

    Returns
    -------
    DataFrame
        ``patient_id``, the six classifications (bool), ``explanation`` (text) and
        ``included`` (bool) for every patient of the results folder.

    Raises
    ------
    InvalidInputError
        The folder holds no ``patients.csv``, or it lacks a column edxreview writes.

    Examples
    --------
    >>> import edxreview
    >>> folder = edxreview.review(edxreview.demo_path()).write("review", report=False, xlsx=False)
    >>> software = edxreview.cohort.read_software(folder)
    >>> len(software), int(software["lmn_involvement"].sum())
    (59, 9)
    """
    path = Path(results_dir) / "patients.csv"
    if not path.is_file():
        raise InvalidInputError(
            f"{str(results_dir)!r} holds no patients.csv; give the output folder of "
            "'edxreview run' or 'edxreview demo'")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("patient_id", "included", *CLASSIFICATIONS) if c not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"{str(path)!r} lacks the column(s) {missing!r}; it is not a patients.csv written "
            "by edxreview")
    out = frame[["patient_id"]].copy()
    for col in ("included", *CLASSIFICATIONS):
        out[col] = frame[col].str.strip().str.lower().eq("true")
    out["explanation"] = frame["explanation"] if "explanation" in frame.columns else ""
    return out


def _read_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet of a workbook as text cells, within the workbook reader's size and archive
    limits; a workbook that cannot be read is an :class:`InvalidInputError`."""
    from ..io._read import check_workbook_archive

    check_workbook_archive(path)
    try:
        return pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False,
                             engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - pandas, zipfile and openpyxl raise many types
        raise InvalidInputError(
            f"{str(path)!r} cannot be read as a workbook ({type(exc).__name__}); re-save it "
            "as .csv (UTF-8) or .xlsx") from None


def _read_table(path: Path) -> tuple[pd.DataFrame, str]:
    """A reader or adjudication file as text cells, within the workbook reader's size limits."""
    from ..io._read import _check_file_size, _too_large

    if not path.is_file():
        raise InvalidInputError(f"{str(path)!r} is not a file; give a .csv or .xlsx file")
    too_big = _check_file_size(path)
    if too_big:
        raise _too_large(path, too_big)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".xlsm", ".csv"):
        raise InvalidInputError(
            f"{str(path)!r} is neither .csv nor .xlsx; save it as one of them")
    try:
        if suffix == ".csv":
            return (pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"),
                    path.name)
        sheets = _read_sheets(path)
    except InvalidInputError:
        raise
    except UnicodeDecodeError:
        raise InvalidInputError(f"{str(path)!r} is not UTF-8 text; save it as CSV UTF-8") \
            from None
    except Exception as exc:  # pandas, zipfile and openpyxl raise many types for damaged files
        raise InvalidInputError(
            f"{str(path)!r} cannot be read ({type(exc).__name__}); re-save it as .csv (UTF-8) "
            "or .xlsx") from None
    name = "readers" if "readers" in sheets else next(iter(sheets))
    return sheets[name], f"{path.name}:{name}"


def read_readers(path: str | Path, software: pd.DataFrame) -> pd.DataFrame:
    """Read and check a reader file against the software's patients.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.xlsx`` (the sheet ``readers`` when present, else the first sheet).
    software : DataFrame
        From :func:`read_software`; a reader row must name one of its included patients.

    Returns
    -------
    DataFrame
        Long table, one row per reader, patient and classification the reader gave:
        ``patient_id``, ``reader``, ``classification``, ``value`` (bool), ``comment``, ``row``
        (the spreadsheet row, header = 1).

    Raises
    ------
    InvalidInputError
        Every problem at once, each located by file, row, column and value: a missing
        ``patient_id``/``reader`` column, an unknown column, an empty or reserved reader name,
        an unknown or excluded patient, a value that is not yes/no, and two rows for one
        reader and patient.

    Examples
    --------
    >>> import edxreview, pandas as pd
    >>> folder = edxreview.review(edxreview.demo_path()).write("review", report=False, xlsx=False)
    >>> software = edxreview.cohort.read_software(folder)
    >>> pd.DataFrame({"patient_id": ["NMO-001", "NMO-002"], "reader": "Dr A",
    ...               "emg_denervation": ["yes", "yes"]}).to_csv("readers.csv", index=False)
    >>> readers = edxreview.cohort.read_readers("readers.csv", software)
    >>> readers[["patient_id", "classification", "value"]].to_numpy().tolist()
    [['NMO-001', 'emg_denervation', True], ['NMO-002', 'emg_denervation', True]]
    """
    path = Path(path)
    frame, sheet = _read_table(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    problems: list[Problem] = []
    for col in ("patient_id", "reader"):
        if col not in frame.columns:
            problems.append(Problem(sheet, 1, col, None, f"the column {col!r} is missing; a "
                                    "reader file needs patient_id and reader columns"))
    for col in frame.columns:
        if col not in _KNOWN:
            problems.append(Problem(sheet, 1, col, col, "unknown column; allowed are "
                                    f"{', '.join(_KNOWN)}"))
    given = [c for c in CLASSIFICATIONS if c in frame.columns]
    if not given and not problems:
        problems.append(Problem(sheet, 1, None, None, "no classification column; give at "
                                f"least one of {', '.join(CLASSIFICATIONS)}"))
    if problems:
        raise InvalidInputError(f"reader file {str(path)!r} cannot be used", problems)

    frame = frame.assign(row=np.arange(2, len(frame) + 2),
                         patient_id=frame["patient_id"].str.strip(),
                         reader=frame["reader"].str.strip())
    if "comment" not in frame.columns:
        frame["comment"] = ""
    blank = frame[given].apply(lambda c: c.str.strip().eq("")).all(axis=1) & \
        frame["patient_id"].eq("") & frame["reader"].eq("")
    frame = frame[~blank]  # wholly empty spreadsheet rows are not rows
    if frame.empty:
        raise InvalidInputError(f"reader file {str(path)!r} cannot be used", [Problem(
            sheet, None, None, None, "the file has no reader rows; give one row per reader and "
            "patient")])

    def add(mask: pd.Series, column: str, message: str) -> None:
        for row, value in zip(frame.loc[mask, "row"], frame.loc[mask, column]):
            problems.append(Problem(sheet, int(row), column, value, message))

    add(frame["reader"].eq(""), "reader", "empty reader name; name the reader of each row")
    add(frame["reader"].str.lower().eq(SOFTWARE), "reader",
        f"{SOFTWARE!r} names the software's own classifications; give the reader another name")
    add(frame["patient_id"].eq(""), "patient_id", "empty patient id")
    add(frame[given].apply(lambda c: c.str.strip().eq("")).all(axis=1) & frame["patient_id"].ne(""),
        "patient_id", "no classification in this row; give at least one (yes or no) or delete "
        "the row")
    known = software.set_index("patient_id")["included"]
    present = frame["patient_id"].ne("")
    add(present & ~frame["patient_id"].isin(known.index), "patient_id",
        "no such patient in the results' patients.csv; check the id")
    add(present & frame["patient_id"].isin(known.index[~known.to_numpy()]), "patient_id",
        "this patient was excluded from the review and has no classifications to compare")
    keyed = frame["patient_id"].ne("") & frame["reader"].ne("")
    dup = keyed & frame.duplicated(["patient_id", "reader"], keep=False)
    if dup.any():
        first = frame[dup].groupby(["patient_id", "reader"])["row"].transform("min")
        for row, value, other in zip(frame.loc[dup, "row"], frame.loc[dup, "patient_id"], first):
            if row != other:
                problems.append(Problem(sheet, int(row), "patient_id", value,
                                        f"a second row for this reader and patient (first at "
                                        f"row {int(other)}); keep one row per reader and patient"))

    long = frame.melt(id_vars=["patient_id", "reader", "comment", "row"], value_vars=given,
                      var_name="classification", value_name="text")
    text = long["text"].str.strip().str.lower()
    long = long.assign(value=text.isin(_TRUE))
    bad = text.ne("") & ~text.isin(_TRUE | _FALSE)
    for row, col, value in zip(long.loc[bad, "row"], long.loc[bad, "classification"],
                               long.loc[bad, "text"]):
        problems.append(Problem(sheet, int(row), col, value,
                                "not a yes/no answer; write yes or no (true/false, 1/0), or "
                                "leave the cell empty when not classified"))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise InvalidInputError(f"reader file {str(path)!r} cannot be used", problems)
    long = long[text.ne("")]
    return long[["patient_id", "reader", "classification", "value", "comment", "row"]] \
        .sort_values(["reader", "patient_id", "classification"]).reset_index(drop=True)


def ratings_table(software: pd.DataFrame, readers: pd.DataFrame) -> pd.DataFrame:
    """All ratings in one long table: ``patient_id``, ``rater``, ``classification``, ``value``.

    The software's ratings are those of its included patients.

    Parameters
    ----------
    software : DataFrame
        From :func:`read_software`.
    readers : DataFrame
        From :func:`read_readers`.

    Returns
    -------
    DataFrame
        One row per rater, patient and classification rated; ``rater`` is ``"software"`` for
        the software's ratings.

    Raises
    ------
    KeyError
        ``software`` or ``readers`` lacks the columns those functions write.

    Examples
    --------
    >>> import edxreview, pandas as pd
    >>> folder = edxreview.review(edxreview.demo_path()).write("review", report=False, xlsx=False)
    >>> software = edxreview.cohort.read_software(folder)
    >>> pd.DataFrame({"patient_id": ["NMO-001"], "reader": "Dr A",
    ...               "emg_denervation": ["yes"]}).to_csv("readers.csv", index=False)
    >>> readers = edxreview.cohort.read_readers("readers.csv", software)
    >>> ratings = edxreview.cohort.ratings_table(software, readers)
    >>> ratings["rater"].value_counts().to_dict()
    {'software': 354, 'Dr A': 1}
    """
    soft = software[software["included"]].melt(
        id_vars=["patient_id"], value_vars=list(CLASSIFICATIONS), var_name="classification",
        value_name="value").assign(rater=SOFTWARE)
    return pd.concat([soft, readers.rename(columns={"reader": "rater"})[
        ["patient_id", "rater", "classification", "value"]]], ignore_index=True)


def _square_counts(table) -> np.ndarray:
    """``table`` as a float array, checked to be a square table of non-negative counts."""
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] != t.shape[1] or t.shape[0] < 2:
        raise InvalidParameterError(
            f"Invalid value for the 'table' parameter: shape {t.shape}. Give a q × q table of "
            "counts (rows rater A's category, columns rater B's), q ≥ 2.")
    if not np.isfinite(t).all() or (t < 0).any():
        raise InvalidParameterError(
            "Invalid value for the 'table' parameter: counts must be finite and non-negative.")
    return t


def gwet_ac1(table: np.ndarray, alpha: float = 0.05) -> dict[str, float]:
    """Gwet's AC1 for two raters from their q × q table, with its variance and CI.

    Parameters
    ----------
    table : array (q, q)
        Counts: rows rater A's category, columns rater B's.
    alpha : float
        1 − the confidence level.

    Returns
    -------
    dict
        ``ac1``, ``pa`` (observed agreement), ``pe`` (chance agreement), ``se`` and the
        normal-approximation CI ``ci_low``/``ci_high`` (AC1 ± z·SE truncated to [−1, 1];
        no finite-population correction).

    Raises
    ------
    InvalidParameterError
        ``table`` is not a square table of non-negative counts.

    Notes
    -----
    With :math:`\\pi_k = (p_{k+} + p_{+k})/2`, :math:`p_e = \\frac{1}{q-1}\\sum_k \\pi_k(1-\\pi_k)`
    and AC1 = :math:`(p_a - p_e)/(1 - p_e)`; the variance is Gwet (2008), equation for two
    raters:

    .. math:: v = \\frac{1}{n(1-p_e)^2}\\Big\\{p_a(1-p_a) - 4(1-\\gamma)\\Big[\\frac{1}{q-1}
       \\sum_k p_{kk}(1-\\pi_k) - p_a p_e\\Big] + 4(1-\\gamma)^2\\Big[\\frac{1}{(q-1)^2}
       \\sum_{k,l} p_{kl}\\big(1-\\tfrac{\\pi_k+\\pi_l}{2}\\big)^2 - p_e^2\\Big]\\Big\\}

    References
    ----------
    Gwet KL. Computing inter-rater reliability and its variance in the presence of high
    agreement. Br J Math Stat Psychol 2008;61:29-48.

    Examples
    --------
    >>> from edxreview.cohort import gwet_ac1
    >>> result = gwet_ac1([[20, 5], [10, 15]])
    >>> round(result["ac1"], 4), round(result["pe"], 3)
    (0.4059, 0.495)
    """
    from scipy import stats
    t = _square_counts(table)
    n = t.sum()
    q = t.shape[0]
    if n == 0:
        return dict(ac1=math.nan, pa=math.nan, pe=math.nan, se=math.nan, ci_low=math.nan,
                    ci_high=math.nan)
    p = t / n
    pa = float(np.trace(p))
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2
    pe = float((pi * (1 - pi)).sum() / (q - 1))
    ac1 = (pa - pe) / (1 - pe)
    term1 = float((np.diag(p) * (1 - pi)).sum() / (q - 1))
    mid = 1 - (pi[:, None] + pi[None, :]) / 2
    term2 = float((p * mid ** 2).sum() / (q - 1) ** 2)
    var = (pa * (1 - pa) - 4 * (1 - ac1) * (term1 - pa * pe)
           + 4 * (1 - ac1) ** 2 * (term2 - pe ** 2)) / (n * (1 - pe) ** 2)
    se = math.sqrt(max(var, 0.0))
    z = float(stats.norm.ppf(1 - alpha / 2))
    return dict(ac1=ac1, pa=pa, pe=pe, se=se, ci_low=max(ac1 - z * se, -1.0),
                ci_high=min(ac1 + z * se, 1.0))


def cohen_kappa(table: np.ndarray, alpha: float = 0.05) -> dict[str, float]:
    """Cohen's κ of a q × q table with statsmodels, its asymptotic SE and normal CI.

    The SE is statsmodels' ``std_kappa``: the asymptotic standard error under the alternative
    (Fleiss, Cohen & Everitt 1969, as in SAS PROC FREQ's "ASE"); the CI is κ ± z·SE,
    truncated to [−1, 1]. Checked against Gwet's irrCAC package (the same κ and SE).

    κ is undefined (NaN) when chance agreement is 1 (both raters put every patient in the
    same single category).

    Parameters
    ----------
    table : array (q, q)
        Counts: rows rater A's category, columns rater B's.
    alpha : float
        1 − the confidence level.

    Returns
    -------
    dict
        ``kappa``, ``se`` and the CI ``ci_low``/``ci_high`` (all NaN when κ is undefined).

    Raises
    ------
    InvalidParameterError
        ``table`` is not a square table of non-negative counts.

    Examples
    --------
    >>> from edxreview.cohort import cohen_kappa
    >>> result = cohen_kappa([[20, 5], [10, 15]])  # Wikipedia's worked example: kappa 0.4
    >>> round(result["kappa"], 3), round(result["se"], 4)
    (0.4, 0.127)
    """
    from scipy import stats
    from statsmodels.stats.inter_rater import cohens_kappa

    t = _square_counts(table)
    n = t.sum()
    nan = dict(kappa=math.nan, se=math.nan, ci_low=math.nan, ci_high=math.nan)
    if n == 0:
        return nan
    pe = float((t.sum(axis=1) / n) @ (t.sum(axis=0) / n))
    if pe >= 1 - 1e-12:
        return nan
    with warnings.catch_warnings():  # statsmodels' test of kappa = 0 divides 0 by 0 when n = 1
        warnings.simplefilter("ignore", RuntimeWarning)
        res = cohens_kappa(t)
    kappa, se = float(res.kappa), float(res.std_kappa)
    z = float(stats.norm.ppf(1 - alpha / 2))
    return dict(kappa=kappa, se=se, ci_low=max(kappa - z * se, -1.0),
                ci_high=min(kappa + z * se, 1.0))


def compute_agreement(ratings: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Agreement per classification, for every pair of raters and (≥ 3 raters) all together.

    Parameters
    ----------
    ratings : DataFrame
        From :func:`ratings_table`.

    Returns
    -------
    DataFrame
        Columns :data:`AGREEMENT_COLUMNS`. Pair rows have ``n_raters`` 2; the Fleiss row has
        ``rater_b`` ``"all"``, the number of raters in ``n_raters``, Fleiss' κ in ``kappa``
        (point estimate only) and counts only the patients every rater classified.

    Raises
    ------
    KeyError
        ``ratings`` lacks a column :func:`ratings_table` writes.

    Examples
    --------
    >>> import edxreview, pandas as pd
    >>> folder = edxreview.review(edxreview.demo_path()).write("review", report=False, xlsx=False)
    >>> software = edxreview.cohort.read_software(folder)
    >>> pd.DataFrame({"patient_id": ["NMO-001", "NMO-002", "NMO-003"], "reader": "Dr A",
    ...               "emg_denervation": ["yes", "no", "no"]}).to_csv("readers.csv", index=False)
    >>> readers = edxreview.cohort.read_readers("readers.csv", software)
    >>> agreement = edxreview.cohort.compute_agreement(
    ...     edxreview.cohort.ratings_table(software, readers))
    >>> agreement[["classification", "rater_a", "rater_b", "n", "n_agree"]].to_numpy().tolist()
    [['emg_denervation', 'software', 'Dr A', 3, 1]]
    """
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    wide = ratings.pivot(index=["classification", "patient_id"], columns="rater", values="value")
    raters = [SOFTWARE] + sorted(r for r in wide.columns if r != SOFTWARE)
    rows: list[dict[str, Any]] = []
    for field in CLASSIFICATIONS:
        block = wide.xs(field, level="classification") if field in wide.index.get_level_values(0) \
            else pd.DataFrame(columns=raters)
        block = block.reindex(columns=raters)
        for a, b in itertools.combinations(raters, 2):
            pair = block[[a, b]].dropna().astype(bool)
            if pair.empty:
                continue
            table = pd.crosstab(pair[a], pair[b]).reindex(
                index=[False, True], columns=[False, True], fill_value=0).to_numpy()
            kappa = cohen_kappa(table, alpha)
            ac1 = gwet_ac1(table, alpha)
            n = int(table.sum())
            rows.append(dict(
                classification=field, rater_a=a, rater_b=b, n_raters=2, n=n,
                n_agree=int(np.trace(table)), percent_agreement=100 * np.trace(table) / n,
                kappa=kappa["kappa"], kappa_se=kappa["se"], kappa_ci_low=kappa["ci_low"],
                kappa_ci_high=kappa["ci_high"], kappa_method="Cohen (statsmodels; asymptotic SE)",
                ac1=ac1["ac1"], ac1_se=ac1["se"], ac1_ci_low=ac1["ci_low"],
                ac1_ci_high=ac1["ci_high"]))
        if len(raters) >= 3:
            full = block.dropna().astype(int)
            if len(full):
                counts, _ = aggregate_raters(full.to_numpy(), n_cat=2)
                agree = int((full.nunique(axis=1) == 1).sum())
                value = float(fleiss_kappa(counts, method="fleiss")) \
                    if counts.sum(axis=0).min() > 0 else math.nan
                rows.append(dict(
                    classification=field, rater_a="all", rater_b="all", n_raters=len(raters),
                    n=len(full), n_agree=agree, percent_agreement=100 * agree / len(full),
                    kappa=value, kappa_se=math.nan, kappa_ci_low=math.nan,
                    kappa_ci_high=math.nan, kappa_method="Fleiss (statsmodels; point estimate)",
                    ac1=math.nan, ac1_se=math.nan, ac1_ci_low=math.nan, ac1_ci_high=math.nan))
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def find_disagreements(software: pd.DataFrame, readers: pd.DataFrame) -> pd.DataFrame:
    """One row per patient and classification on which the raters differ.

    Parameters
    ----------
    software : DataFrame
        From :func:`read_software`.
    readers : DataFrame
        From :func:`read_readers`.

    Returns
    -------
    DataFrame
        ``patient_id``, ``classification``, ``software`` (yes/no), one ``reader:NAME`` column
        per reader (yes/no, empty when not classified), one ``comment:NAME`` column per
        reader, and the software's ``explanation`` from ``patients.csv``.

    Raises
    ------
    KeyError
        ``software`` or ``readers`` lacks the columns those functions write.

    Examples
    --------
    >>> import edxreview, pandas as pd
    >>> folder = edxreview.review(edxreview.demo_path()).write("review", report=False, xlsx=False)
    >>> software = edxreview.cohort.read_software(folder)
    >>> pd.DataFrame({"patient_id": ["NMO-001", "NMO-002", "NMO-003"], "reader": "Dr A",
    ...               "emg_denervation": ["yes", "no", "no"]}).to_csv("readers.csv", index=False)
    >>> readers = edxreview.cohort.read_readers("readers.csv", software)
    >>> found = edxreview.cohort.find_disagreements(software, readers)
    >>> found[["patient_id", "software", "reader:Dr A"]].to_numpy().tolist()
    [['NMO-001', 'no', 'yes'], ['NMO-002', 'yes', 'no']]
    """
    ratings = ratings_table(software, readers)
    yes_no = ratings.assign(answer=np.where(ratings["value"].astype(bool), "yes", "no"))
    wide = yes_no.pivot(index=["patient_id", "classification"], columns="rater", values="answer")
    names = sorted(r for r in wide.columns if r != SOFTWARE)
    given = wide[names].notna().any(axis=1)
    differ = wide.nunique(axis=1, dropna=True) > 1
    wide = wide[given & differ].reset_index()
    comments = readers.drop_duplicates(["patient_id", "reader"]).pivot(
        index="patient_id", columns="reader", values="comment").reindex(columns=names)
    out = wide[["patient_id", "classification"]].copy()
    out[SOFTWARE] = wide[SOFTWARE].fillna("")
    for name in names:
        out[f"reader:{name}"] = wide[name].fillna("").to_numpy()
    for name in names:
        out[f"comment:{name}"] = out["patient_id"].map(comments[name]).fillna("").to_numpy() \
            if len(comments) else ""
    out["explanation"] = out["patient_id"].map(
        software.set_index("patient_id")["explanation"]).fillna("")
    order = {c: i for i, c in enumerate(CLASSIFICATIONS)}
    out = out.sort_values(["patient_id", "classification"],
                          key=lambda s: s.map(order) if s.name == "classification" else s)
    return out.reset_index(drop=True)


ADJUDICATION_COLUMNS = ["patient_id", "classification", "final", "adjudicator", "reason"]
AUDIT_COLUMNS = ["patient_id", "field", "old", "new", "who", "when", "why",
                 "results_sha256", "readers_sha256", "adjudication_sha256"]


def adjudication_sheet(disagreements: pd.DataFrame) -> pd.DataFrame:
    """The adjudication workbook's rows: each disagreement with empty ``final``,
    ``adjudicator`` and ``reason`` columns after the candidates."""
    out = disagreements.copy()
    for col in ("final", "adjudicator", "reason"):
        out[col] = ""
    front = ["patient_id", "classification", "final", "adjudicator", "reason"]
    return out[front + [c for c in out.columns if c not in front]]


def count_adjudicated_cells(path: str | Path) -> int:
    """How many ``final``, ``adjudicator`` and ``reason`` cells of an existing adjudication
    workbook are filled: the adjudicator's work that writing the blank form over it would lose.

    Every sheet is read; a sheet without those columns counts each of its non-empty cells
    (it is not edxreview's form, so all of it is someone's work).

    Raises
    ------
    InvalidInputError
        The file cannot be read as a workbook (so what it holds cannot be told).
    """
    sheets = _read_sheets(Path(path))
    filled = 0
    for frame in sheets.values():
        frame.columns = [str(c).strip() for c in frame.columns]
        cells = frame.apply(lambda c: c.str.strip())
        if all(c in cells.columns for c in ADJUDICATION_COLUMNS):
            cells = cells[ADJUDICATION_COLUMNS[2:]]
        elif not len(cells):   # a header only: its names are the work
            filled += sum(1 for c in frame.columns if c and not c.startswith("Unnamed:"))
            continue
        filled += int(cells.ne("").to_numpy().sum())
    return filled


def read_adjudication(path: str | Path, disagreements: pd.DataFrame) -> pd.DataFrame:
    """Read a filled adjudication workbook (``.xlsx`` or ``.csv``) and check it.

    Rows with an empty ``final`` are not yet adjudicated and are skipped. A filled row needs a
    yes/no ``final``, an ``adjudicator`` and a ``reason``, and must name a patient and
    classification that is disputed (in ``disagreements``), once.

    Parameters
    ----------
    path : str or Path
        The adjudication file (``edxreview adjudicate`` writes its blank form).
    disagreements : DataFrame
        From :func:`find_disagreements`: the cells that may be adjudicated.

    Returns
    -------
    DataFrame
        ``patient_id``, ``classification``, ``final`` (bool), ``adjudicator``, ``reason``,
        ``row``: the adjudicated rows.

    Raises
    ------
    InvalidInputError
        Every problem at once, located by sheet, row, column and value.

    Examples
    --------
    >>> import edxreview, pandas as pd
    >>> folder = edxreview.review(edxreview.demo_path()).write("review", report=False, xlsx=False)
    >>> software = edxreview.cohort.read_software(folder)
    >>> pd.DataFrame({"patient_id": ["NMO-001"], "reader": "Dr A",
    ...               "emg_denervation": ["yes"]}).to_csv("readers.csv", index=False)
    >>> readers = edxreview.cohort.read_readers("readers.csv", software)
    >>> disputed = edxreview.cohort.find_disagreements(software, readers)
    >>> pd.DataFrame({"patient_id": ["NMO-001"], "classification": ["emg_denervation"],
    ...               "final": ["yes"], "adjudicator": ["Dr B"],
    ...               "reason": ["fibrillations in two myotomes"]}).to_csv("final.csv", index=False)
    >>> adjudicated = edxreview.cohort.read_adjudication("final.csv", disputed)
    >>> adjudicated[["patient_id", "final"]].to_numpy().tolist()
    [['NMO-001', True]]
    """
    path = Path(path)
    frame, sheet = _read_table(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    problems = [Problem(sheet, 1, c, None, f"the column {c!r} is missing; write the workbook "
                        "with 'edxreview adjudicate' and fill its final, adjudicator and reason "
                        "columns") for c in ADJUDICATION_COLUMNS if c not in frame.columns]
    if problems:
        raise InvalidInputError(f"adjudication file {str(path)!r} cannot be used", problems)
    frame = frame[ADJUDICATION_COLUMNS].apply(lambda c: c.str.strip()).assign(
        row=np.arange(2, len(frame) + 2))
    frame = frame[frame["final"].ne("")]
    text = frame["final"].str.lower()

    def add(mask: pd.Series, column: str, message: str) -> None:
        for row, value in zip(frame.loc[mask, "row"], frame.loc[mask, column]):
            problems.append(Problem(sheet, int(row), column, value, message))

    add(~text.isin(_TRUE | _FALSE), "final", "not a yes/no answer; write yes or no, or leave "
        "the cell empty when the disagreement is not yet settled")
    add(frame["adjudicator"].eq(""), "adjudicator", "who settled this disagreement? name the "
        "adjudicator")
    add(frame["reason"].eq(""), "reason", "give the reason for the final answer")
    disputed = pd.MultiIndex.from_frame(disagreements[["patient_id", "classification"]])
    keys = pd.MultiIndex.from_frame(frame[["patient_id", "classification"]])
    add(pd.Series(~keys.isin(disputed), index=frame.index), "patient_id",
        "this patient and classification is not disputed (not in the disagreements); "
        "adjudicate only the rows 'edxreview adjudicate' wrote")
    dup = frame.duplicated(["patient_id", "classification"], keep="first")
    add(dup, "classification", "a second adjudication of this patient and classification; "
        "keep one row")
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise InvalidInputError(f"adjudication file {str(path)!r} cannot be used", problems)
    return frame.assign(final=text.isin(_TRUE)).reset_index(drop=True)


def apply_adjudication(software: pd.DataFrame, adjudicated: pd.DataFrame
                       ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The final classifications: the software's, with each adjudicated cell replaced.

    Parameters
    ----------
    software : DataFrame
        From :func:`read_software`.
    adjudicated : DataFrame
        From :func:`read_adjudication`.

    Returns
    -------
    final : DataFrame
        ``software`` with the adjudicated cells set to the final answer.
    changes : DataFrame
        ``patient_id``, ``field``, ``old``, ``new``, ``who``, ``why``: one row per adjudicated
        cell (also where the final answer equals the software's, so that every decision is
        on record).

    Raises
    ------
    KeyError
        ``adjudicated`` names a patient or classification ``software`` does not have (never
        for a table from :func:`read_adjudication`, which checks them).

    Examples
    --------
    >>> import edxreview, pandas as pd
    >>> folder = edxreview.review(edxreview.demo_path()).write("review", report=False, xlsx=False)
    >>> software = edxreview.cohort.read_software(folder)
    >>> adjudicated = pd.DataFrame({"patient_id": ["NMO-001"],
    ...                             "classification": ["emg_denervation"], "final": [True],
    ...                             "adjudicator": ["Dr B"], "reason": ["fibrillations"]})
    >>> final, changes = edxreview.cohort.apply_adjudication(software, adjudicated)
    >>> changes[["patient_id", "field", "old", "new"]].to_numpy().tolist()
    [['NMO-001', 'emg_denervation', 'no', 'yes']]
    """
    final = software.set_index("patient_id")
    old = final.stack().rename("old")  # (patient_id, column) -> value
    keys = pd.MultiIndex.from_frame(adjudicated[["patient_id", "classification"]])
    changes = pd.DataFrame({
        "patient_id": adjudicated["patient_id"], "field": adjudicated["classification"],
        "old": old.reindex(keys).to_numpy(), "new": adjudicated["final"].to_numpy(),
        "who": adjudicated["adjudicator"], "why": adjudicated["reason"]})
    for field, group in changes.groupby("field"):
        final.loc[group["patient_id"].to_numpy(), field] = group["new"].to_numpy()
    for col in ("old", "new"):
        changes[col] = np.where(changes[col].astype(bool), "yes", "no")
    return final.reset_index(), changes.reset_index(drop=True)


def compare_counts(software: pd.DataFrame, final: pd.DataFrame,
                   ci_method: str = "wilson") -> pd.DataFrame:
    """Software-only and final counts of each classification among the included patients,
    each with its percentage and 95 % binomial CI (:func:`binomial_ci`)."""
    from ._summary import binomial_ci

    inc_s = software[software["included"]]
    inc_f = final[final["included"]]
    of = len(inc_s)
    out = pd.DataFrame({"classification": list(CLASSIFICATIONS),
                        "software_n": inc_s[list(CLASSIFICATIONS)].sum().to_numpy(dtype=int),
                        "final_n": inc_f[list(CLASSIFICATIONS)].sum().to_numpy(dtype=int),
                        "of": of})
    for who in ("software", "final"):
        n = out[f"{who}_n"].to_numpy()
        out[f"{who}_percent"] = np.round(100 * n / of, 1) if of else np.nan
        low, high = binomial_ci(n, np.full(len(n), of), ci_method) if of else (np.nan, np.nan)
        out[f"{who}_ci_low"], out[f"{who}_ci_high"] = low, high
    return out
