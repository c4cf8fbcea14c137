"""The agreement page: agreement per classification, disagreements and adjudication."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..cohort._summary import MEASURE_LABELS
from ._render import _env

_METHODS = (
    "Pairs: n = patients both raters classified; percent agreement; Cohen's kappa (statsmodels "
    "cohens_kappa) with the asymptotic standard error under the alternative and a normal 95 % "
    "CI (kappa ± 1.96 SE, truncated to [−1, 1]); kappa is 'not defined' where both "
    "raters put every patient in one category. Gwet's AC1 with the variance of Gwet (2008, "
    "Br J Math Stat Psychol 61:29-48) and a normal 95 % CI; AC1 is less affected than kappa "
    "when a finding is rare. Rows 'all': Fleiss' kappa (statsmodels fleiss_kappa) over the "
    "patients every rater classified, point estimate only.")
_NUMERIC = ("percent_agreement", "kappa", "kappa_se", "kappa_ci_low", "kappa_ci_high", "ac1",
            "ac1_se", "ac1_ci_low", "ac1_ci_high")


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None:
        return []
    out = frame.copy()
    for col in _NUMERIC:
        if col in out.columns:
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    return out.astype(object).where(out.notna(), "").to_dict("records")


def _with_ci(est: object, low: object, high: object) -> str:
    if pd.isna(est):
        return "not defined"
    text = f"{est:.2f}"
    if not (pd.isna(low) or pd.isna(high)):
        text += f" ({low:.2f} to {high:.2f})"
    return text


def _agreement_rows(agreement: pd.DataFrame) -> list[dict[str, str]]:
    """One display row per classification and pair: labels, agreement, kappa and AC1 with CIs."""
    a = agreement
    pair = (a["rater_a"].astype(str) + " vs " + a["rater_b"].astype(str)).where(
        a["rater_a"] != "all", "all raters (Fleiss)")
    return pd.DataFrame({
        "classification": a["classification"].map(MEASURE_LABELS).fillna(a["classification"]),
        "raters": pair,
        "n": a["n"].astype("Int64").astype(str),
        "agreement": [f"{n_agree}/{n} ({pct:.1f} %)" for n_agree, n, pct in
                      zip(a["n_agree"], a["n"], a["percent_agreement"], strict=True)],
        "kappa": [_with_ci(e, lo, hi) for e, lo, hi in
                  zip(a["kappa"], a["kappa_ci_low"], a["kappa_ci_high"], strict=True)],
        "ac1": [_with_ci(e, lo, hi) if rater != "all" else "not computed for 3+ raters"
                for e, lo, hi, rater in zip(a["ac1"], a["ac1_ci_low"], a["ac1_ci_high"],
                                            a["rater_a"], strict=True)],
    }).to_dict("records")


def render_agreement(agreement: pd.DataFrame, disagreements: pd.DataFrame, path: str | Path,
                     counts: pd.DataFrame | None = None,
                     changes: pd.DataFrame | None = None) -> Path:
    """Write the agreement page (HTML, every cell escaped) to ``path``.

    Parameters
    ----------
    agreement, disagreements : DataFrame
        From :func:`edxreview.cohort.compute_agreement` and
        :func:`edxreview.cohort.find_disagreements`.
    counts, changes : DataFrame, optional
        From :func:`edxreview.cohort.compare_counts` and
        :func:`edxreview.cohort.apply_adjudication`, after adjudication.
    """
    readers = sorted(c.split(":", 1)[1] for c in disagreements.columns
                     if c.startswith("reader:"))
    if not readers:
        raters = set(agreement["rater_a"]) | set(agreement["rater_b"])
        readers = sorted(raters - {"all", "software"})
    html = _env().get_template("agreement.html.j2").render(
        readers=readers, n_disagreements=len(disagreements),
        agreement=_agreement_rows(agreement), methods=_METHODS,
        disagreement_columns=list(disagreements.columns), labels=MEASURE_LABELS,
        headers={"patient_id": "Patient", "classification": "Classification",
                 "software": "edxreview", "explanation": "edxreview's explanation",
                 **{c: c.replace("reader:", "Reader ").replace("comment:", "Comment, ")
                    for c in disagreements.columns if ":" in c}}, disagreements=_records(disagreements),
        counts=_records(counts), changes=_records(changes))
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path
