"""The per-centre part of the report: a forest plot of each centre's proportions and a sheet."""

from __future__ import annotations

import io
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ._figures import OKABE_ITO  # noqa: E402

#: centres drawn in the forest plot (the largest ones, by included patients)
MAX_CENTRES = 40
_RC = {"svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 9,
       "svg.hashsalt": "edxreview-centres"}


def centre_table(result) -> pd.DataFrame:
    """The per-centre breakdown recorded in ``summary.json`` (empty without centres)."""
    rows = result.summary.get("centres") or []
    return pd.DataFrame(rows)


def plot_centre_forest(table: pd.DataFrame, summary: dict[str, Any]) -> tuple[str, str]:
    """Forest plot: each centre's percentage of each measure with its 95 % CI.

    Parameters
    ----------
    table : DataFrame
        :func:`edxreview.cohort.summarize_centres` output.
    summary : dict
        The cohort results (``measures``), drawn as a dashed line per panel.

    Returns
    -------
    svg : str
    note : str
        Says when only the largest centres are drawn.
    """
    sizes = table.drop_duplicates("centre").set_index("centre")["denominator"]
    shown = sizes.sort_values(ascending=False, kind="stable").head(MAX_CENTRES).index
    note = (f"The {len(shown)} largest of {len(sizes)} centres are drawn; every centre is in "
            "summary.json and results.xlsx." if len(sizes) > len(shown) else "")
    centres = sorted(shown)
    measures = list(dict.fromkeys(table["measure"]))
    with matplotlib.rc_context(_RC):
        fig, axes = plt.subplots(1, len(measures), sharey=True,
                                 figsize=(2.0 * len(measures) + 1.5,
                                          0.32 * len(centres) + 1.4), squeeze=False)
        y = np.arange(len(centres))[::-1]
        for ax, key in zip(axes[0], measures):
            part = table[table["measure"] == key].set_index("centre").reindex(centres)
            pct = part["percent"].to_numpy(dtype=float)
            lo = part["ci95_low"].to_numpy(dtype=float)
            hi = part["ci95_high"].to_numpy(dtype=float)
            ax.errorbar(pct, y, xerr=[pct - lo, hi - pct], fmt="s", color="#34495e",
                        ecolor="#7f8c8d", markersize=4, capsize=2, linewidth=1)
            cohort = summary.get("measures", {}).get(key, {}).get("percent")
            if cohort is not None:
                ax.axvline(cohort, color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1)
            ax.set_xlim(0, 100)
            label = str(part["label"].dropna().iloc[0]) if part["label"].notna().any() else key
            ax.set_title("\n".join(textwrap.wrap(label, 24)), fontsize=8)
            ax.set_xlabel("% (95% CI)")
            ax.grid(axis="x", color="#ecf0f1")
        axes[0][0].set_yticks(y, [f"{c} (n={int(sizes[c])})" for c in centres])
        fig.tight_layout()
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
        plt.close(fig)
    return buf.getvalue(), note


def centre_figures(result) -> dict[str, tuple[str, str, str]]:
    """The forest plot as a report figure (title, SVG, caption); none without centres."""
    table = centre_table(result)
    if not len(table):
        return {}
    svg, note = plot_centre_forest(table, result.summary)
    caption = ("Each centre's percentage of included patients with each finding, with its "
               f"95% CI ({result.summary.get('ci_method', '')}); dashed line: the whole cohort. "
               + note)
    return {"centres": ("Findings by centre", svg, caption.strip())}


def centre_sheets(result) -> dict[str, pd.DataFrame]:
    """The per-centre breakdown as a spreadsheet sheet; none without centres."""
    table = centre_table(result)
    return {"centres": table} if len(table) else {}
