"""Report figures: matplotlib ``Figure`` objects, saved as SVG, 300-dpi PNG and PDF.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` (not attached to
pyplot, so nothing leaks and a notebook shows it); :func:`figure_svg` and
:func:`save_figure` write it reproducibly. Figures carry no title (the caption names them),
and their categories use the Okabe–Ito colour-blind-safe palette (Okabe M, Ito K. Color
Universal Design, 2008), checked by a colour-vision-deficiency simulation in the tests.

Every figure aggregates whole tables; only the segmental map draws one row per patient, and it
switches to per-segment counts above :data:`SEGMENT_MAP_MAX_ROWS` patients.
"""

from __future__ import annotations

import io
import logging
import re
import weakref
from functools import lru_cache
from typing import Any

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .._tables import isin  # noqa: E402
from ._frames import count_rows  # noqa: E402
from ..interpret._muscles import muscle_reading_codes  # noqa: E402
from ._segments import SEGMENT_MAP_MAX_ROWS, segment_cells, segment_columns  # noqa: E402,F401
from ._edx import display_names  # noqa: E402
from .._words import load_labels  # noqa: E402
from ._summary import nerve_study_words  # noqa: E402
from ..knowledge._tables import load_brainstem_nuclei  # noqa: E402

log = logging.getLogger(__name__)

#: most muscles / nerves drawn in the distribution figures
MAX_BARS = 25

#: Okabe–Ito colours by category; light grey for "normal" and the MRI background. Chosen so
#: every pair within one figure stays apart under simulated protan-, deuter- and tritanopia
#: (tests/report/test_figures.py)
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
             "reddish_purple": "#CC79A7", "black": "#000000"}
LIGHT_GREY = "#DDDDDD"
COLORS = {"unexplained": OKABE_ITO["vermillion"], "explained": OKABE_ITO["blue"],
          "mri": LIGHT_GREY, "normal": LIGHT_GREY, "acute": OKABE_ITO["sky_blue"],
          "acute and chronic": OKABE_ITO["vermillion"], "chronic": OKABE_ITO["blue"],
          "neuropathy": OKABE_ITO["vermillion"], "other": OKABE_ITO["sky_blue"],
          "bars": "#333333"}

_RC = {"svg.fonttype": "none", "font.family": "DejaVu Sans", "font.size": 9,
       "text.parse_math": False, "axes.spines.top": False, "axes.spines.right": False}


#: the settings each figure was drawn with (its language's fonts), used again to save it
_FIGURE_RC: "weakref.WeakKeyDictionary[Figure, dict]" = weakref.WeakKeyDictionary()


@lru_cache(maxsize=8)
def _installed_fonts(fonts: tuple[str, ...]) -> tuple[str, ...]:
    """The fonts of ``fonts`` matplotlib finds, in order (a language's second and later fonts
    draw the glyphs the first lacks); a warning when only the first is found."""
    from matplotlib import font_manager

    manager = font_manager.fontManager
    names = {f.name for f in manager.ttflist}
    if len(fonts) > 1 and not set(fonts[1:]) & names:
        # matplotlib's font list is cached on disk the first time it runs: fonts installed
        # since are added (in memory) from the system's fonts
        known = {f.fname for f in manager.ttflist}
        for path in sorted(set(font_manager.findSystemFonts()) - known):
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError):   # a file FreeType cannot read
                continue
        names = {f.name for f in manager.ttflist}
    found = tuple(f for f in fonts if f in names) or fonts[:1]
    if len(fonts) > 1 and len(found) < 2:
        log.warning("none of the fonts %s is installed: the figures' %s text will show as "
                    "empty boxes", list(fonts[1:]), "non-Latin")
    return found


def _rc(words: dict[str, Any]) -> dict[str, Any]:
    """matplotlib settings of the figures in the language of ``words`` (its fonts)."""
    fonts = _installed_fonts(tuple(words["figures"]["fonts"]))
    return {**_RC, "font.family": fonts[0] if len(fonts) == 1 else list(fonts)}


def _figure(rc: dict[str, Any] | None = None, **subplots) -> tuple[Figure, object]:
    """A figure outside pyplot's registry (closed by the garbage collector) and its axes;
    ``rc``: the settings it is drawn with (kept to save it with)."""
    figsize = subplots.pop("figsize")
    fig = Figure(figsize=figsize)
    if rc is not None:
        _FIGURE_RC[fig] = rc
    return fig, fig.subplots(**subplots)


def figure_svg(fig: Figure, name: str) -> str:
    """The figure as SVG text, identical for identical input (fixed hash salt, no date)."""
    buf = io.StringIO()
    with matplotlib.rc_context({**_FIGURE_RC.get(fig, _RC),
                                "svg.hashsalt": f"edxreview-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buf.getvalue()


def save_figure(fig: Figure, stem, name: str, svg_text: str | None = None,
                formats: tuple[str, ...] = ("svg", "png", "pdf")) -> list:
    """Write ``<stem>.svg``, ``<stem>.png`` (300 dpi) and ``<stem>.pdf``; returns the paths.

    The PNG and PDF are what journals ask for; the PDF keeps text as text (Type 42 fonts).
    ``svg_text`` is the figure's SVG when already drawn (:func:`figure_svg`); ``formats``
    the files to write.
    """
    from pathlib import Path

    stem = Path(stem)
    paths = []
    if "svg" in formats:
        svg = stem.with_suffix(".svg")
        svg.write_text(figure_svg(fig, name) if svg_text is None else svg_text,
                       encoding="utf-8")
        paths.append(svg)
    with matplotlib.rc_context({**_FIGURE_RC.get(fig, _RC), "pdf.fonttype": 42}):
        if "png" in formats:
            fig.savefig(stem.with_suffix(".png"), dpi=300, bbox_inches="tight",
                        metadata={"Software": None})
            paths.append(stem.with_suffix(".png"))
        if "pdf" in formats:
            fig.savefig(stem.with_suffix(".pdf"), bbox_inches="tight",
                        metadata={"CreationDate": None, "ModDate": None, "Producer": None})
            paths.append(stem.with_suffix(".pdf"))
    return paths


def inline_svg(svg: str, prefix: str = "") -> str:
    """SVG text without its XML declaration and doctype, for embedding in HTML.

    With ``prefix``, every element id and every reference to one (``url(#…)``, ``href="#…"``)
    gains ``<prefix>-``: matplotlib numbers its ids per figure (``patch_1`` …), so figures
    inlined in one page would otherwise repeat them.
    """
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg, flags=re.S)
    # inside HTML the namespaces are implied and the RDF metadata is not needed; dropping them
    # leaves the page free of any URL
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    if prefix:
        ids = set(re.findall(r'\bid="([^"]+)"', svg))
        svg = re.sub(r'(\bid="|url\(#|href="#)([^")]+)',
                     lambda m: m.group(1) + (f"{prefix}-{m.group(2)}" if m.group(2) in ids
                                             else m.group(2)), svg)
    return svg


def _message_figure(text: str, rc: dict[str, Any] = _RC) -> Figure:
    with matplotlib.rc_context(rc):
        fig, ax = _figure(rc, figsize=(6, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, text, ha="center", va="center")
        return fig


def plot_overlap(patients: pd.DataFrame, lesions: pd.DataFrame, lang: str = "en") -> Figure:
    """UpSet-style plot of EMG denervation × NCS neuropathy × MRI cord or brainstem lesion.

    Parameters
    ----------
    patients : DataFrame
        Included patients (``patient_id, emg_denervation, ncs_neuropathy``).
    lesions : DataFrame
        MRI brainstem and cord lesions (``patient_id``).
    lang : {"en", "zh"}
        Language of the figure's words.

    Returns
    -------
    matplotlib.figure.Figure
    """
    words = load_labels(lang)
    w, rc = words["figures"], _rc(words)
    sets = pd.DataFrame({
        w["overlap_emg"]: patients["emg_denervation"].to_numpy(dtype=bool),
        w["overlap_ncs"]: patients["ncs_neuropathy"].to_numpy(dtype=bool),
        w["overlap_mri"]: isin(
            patients["patient_id"], lesions["patient_id"] if len(lesions) else []),
    })
    names = list(sets.columns)
    combos = sets.value_counts().rename("n").reset_index()
    combos["k"] = combos[names].sum(axis=1)
    combos = combos.sort_values(["n", "k"], ascending=[False, True]).reset_index(drop=True)
    with matplotlib.rc_context(rc):
        fig, (ax_bar, ax_dot) = _figure(
            rc, nrows=2, ncols=1, figsize=(7, 4.2), sharex=True,
            gridspec_kw={"height_ratios": [3, 1.4]})
        x = np.arange(len(combos))
        bars = ax_bar.bar(x, combos["n"], color=COLORS["bars"], width=0.6)
        ax_bar.bar_label(bars, padding=2)
        ax_bar.set_ylabel(w["patients"])
        ax_bar.margins(y=0.15)
        for j, name in enumerate(names):
            on = combos[name].to_numpy()
            ax_dot.scatter(x[on], np.full(on.sum(), j), s=60, color=COLORS["bars"], zorder=3)
            ax_dot.scatter(x[~on], np.full((~on).sum(), j), s=60, color=LIGHT_GREY, zorder=2)
        for i, row in combos.iterrows():
            ys = [j for j, name in enumerate(names) if row[name]]
            if len(ys) > 1:
                ax_dot.plot([i, i], [min(ys), max(ys)], color=COLORS["bars"], lw=2, zorder=1)
        totals = sets.sum()
        ax_dot.set_yticks(range(len(names)),
                          [w["overlap_set"].format(name=n, n=int(totals[n])) for n in names])
        ax_dot.set_ylim(-0.6, len(names) - 0.4)
        ax_dot.invert_yaxis()
        ax_dot.set_xticks([])
        for side in ("left", "bottom"):
            ax_dot.spines[side].set_visible(False)
        ax_dot.tick_params(left=False)
        fig.text(0.01, -0.02, w["overlap_note"], fontsize=8)
        return fig


def segmental_map_note(patients: pd.DataFrame, lang: str = "en") -> str:
    """Says when the segmental map shows counts instead of one row per patient ('' if not)."""
    n = int(patients["emg_denervation"].astype(bool).sum())
    if n <= SEGMENT_MAP_MAX_ROWS:
        return ""
    return load_labels(lang)["figure_captions"]["segmental_map_counts"].format(n=n)


def plot_segmental_map(patients: pd.DataFrame, muscles: pd.DataFrame | None,
                       lesions: pd.DataFrame | None, *, columns: pd.DataFrame | None = None,
                       counts: pd.DataFrame | None = None, lang: str = "en") -> Figure:
    """Brainstem levels and cord segments C1–S5 of each patient with denervation.

    Above :data:`SEGMENT_MAP_MAX_ROWS` patients the map counts patients per segment instead
    (:func:`segmental_map_note` says so).

    Parameters
    ----------
    patients, muscles, lesions : DataFrame
        The included patients, the muscles (``patient_id, segments, nucleus, denervation,
        explained_by_ncs``) and the MRI lesions (``patient_id, pos_min, pos_max``).
    columns : DataFrame, optional
        The map's columns (:func:`segment_columns`; default: those of ``muscles``).
    counts : DataFrame, optional
        Patients per column already counted (index: column key; ``unexplained``,
        ``explained``, ``mri``), as a registry's partitions count them: used instead of
        ``muscles`` and ``lesions`` when the map shows counts.
    lang : {"en", "zh"}
        Language of the figure's words (the nuclei named in it too).

    Returns
    -------
    matplotlib.figure.Figure
    """
    words = load_labels(lang)
    w, rc = words["figures"], _rc(words)
    spec = segment_columns(muscles) if columns is None else columns
    cols = spec["key"].tolist()
    col_labels = spec["key"].map(_nucleus_labels(lang)).fillna(spec["label"])
    n_nuclei = int((spec["position"] < spec.loc[spec["key"] == "C1", "position"].iloc[0]).sum())
    ids = patients.loc[patients["emg_denervation"].astype(bool), "patient_id"]
    if counts is not None and len(ids) > SEGMENT_MAP_MAX_ROWS:
        den = mri_den = None
    else:
        if len(lesions):                  # only the lesions of patients drawn
            lesions = lesions[isin(lesions["patient_id"], ids)]
        den, mri = segment_cells(muscles, lesions, spec)
        den = den[isin(den["patient_id"], ids)]
        mri_den = mri[isin(mri["patient_id"], ids)]
    if not len(ids):
        return _message_figure(w["no_denervation"], rc)
    col_index = {c: i for i, c in enumerate(cols)}
    with matplotlib.rc_context(rc):
        if len(ids) <= SEGMENT_MAP_MAX_ROWS:
            row_index = {p: i for i, p in enumerate(ids)}
            fig, ax = _figure(rc, figsize=(9, 1.2 + 0.28 * len(ids)))
            m = mri_den[mri_den["segment"].isin(col_index)]
            ax.scatter(m["segment"].map(col_index), m["patient_id"].map(row_index),
                       marker="s", s=150, color=COLORS["mri"], zorder=1)
            for unexplained, key, marker in ((False, "explained", "o"),
                                             (True, "unexplained", "o")):
                d = den[den["unexplained"] == unexplained]
                d = d[d["segment"].isin(col_index)]
                ax.scatter(d["segment"].map(col_index), d["patient_id"].map(row_index),
                           marker=marker, s=45, color=COLORS[key], zorder=3,
                           edgecolors="white", linewidths=0.5)
            ax.set_yticks(range(len(ids)), [str(p) for p in ids])
            ax.set_ylim(len(ids) - 0.5, -0.5)
            note = ""
        else:
            if den is None:
                given = counts.reindex(cols, fill_value=0)
                n_un, n_ex, n_mri = given["unexplained"], given["explained"], given["mri"]
            else:
                n_un = den[den["unexplained"]].groupby("segment").size().reindex(
                    cols, fill_value=0)
                n_ex = den[~den["unexplained"]].groupby("segment").size().reindex(
                    cols, fill_value=0)
                n_mri = mri_den.groupby("segment").size().reindex(cols, fill_value=0)
            fig, ax = _figure(rc, figsize=(9, 3.2))
            x = np.arange(len(cols))
            ax.bar(x, n_mri, color=COLORS["mri"], width=0.9)
            ax.bar(x - 0.2, n_ex, color=COLORS["explained"], width=0.4)
            ax.bar(x + 0.2, n_un, color=COLORS["unexplained"], width=0.4)
            ax.set_ylabel(w["patients"])
            note = "counts"
        per_patient = not note
        ax.set_xticks(range(len(cols)), col_labels.tolist(), rotation=90)
        ax.set_xlim(-0.6, len(cols) - 0.4)
        for b in np.array([0, 8, 20, 25]) + n_nuclei - 0.5:
            ax.axvline(b, color="#aab7b8", lw=0.6, ls=":")
        ax.tick_params(axis="x", labeltop=per_patient, top=per_patient,
                       labelbottom=not per_patient, bottom=not per_patient)
        fig.legend(handles=[
            Patch(color=COLORS["unexplained"], label=w["map_unexplained"]),
            Patch(color=COLORS["explained"], label=w["map_explained"]),
            Patch(color=COLORS["mri"], label=w["map_mri"])],
            # on the side away from the segment labels (on top for one row per patient, below
            # for the counts), so that the long brainstem labels never run into it
            **({"loc": "upper left", "bbox_to_anchor": (0.08, 0.0)} if per_patient
               else {"loc": "lower left", "bbox_to_anchor": (0.08, 0.98)}),
            ncol=3, frameon=False, fontsize=8)
        return fig


#: the muscle figure's bars, in stacking order (their legend's words: table ``muscle_kinds``
#: of the label files)
MUSCLE_KINDS = ("acute", "acute and chronic", "chronic", "normal", "not read")

#: each reading code of :func:`~edxreview.interpret._muscles.muscle_reading_codes` -> its bar
#: (denervation first; myopathic muscles have no denervation, MUAPs read)
_KIND_OF_READING = {"acute_and_chronic": "acute and chronic", "acute": "acute",
                    "acute_not_read": "acute", "acute_not_judged": "acute",
                    "acute_and_myopathic": "acute", "chronic": "chronic",
                    "myopathic": "normal", "not_read": "not read", "not_judged": "not read",
                    "normal": "normal"}


def muscle_kinds(muscles: pd.DataFrame) -> pd.DataFrame:
    """Each (muscle, kind) of the muscle figure with its number of rows ``n``, from the typed
    columns ``acute``, ``chronic`` and ``muap_reading`` (counted rows, a column ``n``, as a
    registry's partitions return them, are summed). A muscle without acute or chronic
    denervation whose MUAPs were not read or not judged is ``not read``, not ``normal``:
    chronic denervation was not looked for there."""
    cols = ["muscle", "acute", "chronic", "muap_reading"]
    pairs = count_rows(muscles.assign(**{c: muscles[c].fillna(False).astype(bool)
                                         for c in ("acute", "chronic")}), cols)
    kind = muscle_reading_codes(pairs).map(_KIND_OF_READING)
    return pairs.assign(kind=kind).groupby(["muscle", "kind"], sort=False)["n"].sum() \
        .reset_index()


def plot_muscle_findings(muscles: pd.DataFrame, lang: str = "en") -> Figure:
    """Muscles examined and their denervation readings (most examined first), from the typed
    columns (:func:`muscle_kinds`), its words and muscle names in ``lang``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    words = load_labels(lang)
    w, rc, kinds = words["figures"], _rc(words), words["muscle_kinds"]
    if not len(muscles):
        return _message_figure(w["no_emg"], rc)
    muscle_names = display_names("muscle", lang)
    counts = muscle_kinds(muscles).pivot_table(index="muscle", columns="kind", values="n",
                                               aggfunc="sum", fill_value=0)
    counts.columns.name = None
    for k in MUSCLE_KINDS:
        if k not in counts:
            counts[k] = 0
    counts = counts.assign(total=counts.sum(axis=1)).sort_values("total", ascending=False)
    counts = counts.head(MAX_BARS).iloc[::-1]
    names = counts.index.map(lambda m: muscle_names.get(m, m))
    shown = [k for k in MUSCLE_KINDS if k != "not read" or counts[k].any()]
    with matplotlib.rc_context(rc):
        fig, ax = _figure(rc, figsize=(7, 1 + 0.25 * len(counts)))
        left = np.zeros(len(counts))
        for k in shown:
            unread = k == "not read"   # grey like "no denervation", hatched: not looked for
            ax.barh(np.arange(len(counts)), counts[k], left=left,
                    color="white" if unread else COLORS[k],
                    edgecolor=COLORS["normal"] if unread else None,
                    hatch="///" if unread else None, label=kinds[k])
            left += counts[k].to_numpy()
        ax.set_yticks(np.arange(len(counts)), list(names))
        ax.set_xlabel(w["muscles_axis"])
        # below the axis (figures are saved with a tight bounding box): beside the bars it
        # hid the longest ones
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.6 / (1 + 0.25 * len(counts))),
                  ncol=2, frameon=False, fontsize=8)
        return fig


def plot_nerve_findings(nerves: pd.DataFrame, lang: str = "en") -> Figure:
    """Nerve studies and their readings: normal, abnormal counted as neuropathy, other (its
    words and nerve names in ``lang``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    words = load_labels(lang)
    w, rc = words["figures"], _rc(words)
    if not len(nerves):
        return _message_figure(w["no_ncs"], rc)
    # count (nerve, study, reading flags) first: kinds and labels are then made for a few
    # dozen rows, not one per nerve studied
    pairs = pd.DataFrame({"nerve": nerves["nerve"], "study": nerves["study"],
                          "neuropathy": nerves["counts_as_neuropathy"].astype(bool),
                          "abnormal": nerves["abnormal"].astype(bool),
                          **({"n": nerves["n"]} if "n" in nerves else {})})
    pairs = count_rows(pairs, ["nerve", "study", "neuropathy", "abnormal"])
    pairs["kind"] = np.select([pairs["neuropathy"].astype(bool),
                               pairs["abnormal"].astype(bool)],
                              ["neuropathy", "other"], "normal")
    pairs["label"] = _nerve_labels(pairs, words, lang)
    counts = pairs.pivot_table(index="label", columns="kind", values="n", aggfunc="sum",
                               fill_value=0)
    counts.columns.name = None
    for k in ("neuropathy", "other", "normal"):
        if k not in counts:
            counts[k] = 0
    counts = counts.assign(total=counts.sum(axis=1)).sort_values("total", ascending=False)
    counts = counts.head(MAX_BARS).iloc[::-1]
    names = words["nerve_kinds"]
    with matplotlib.rc_context(rc):
        fig, ax = _figure(rc, figsize=(7, 1 + 0.25 * len(counts)))
        left = np.zeros(len(counts))
        for k in ("neuropathy", "other", "normal"):
            ax.barh(np.arange(len(counts)), counts[k], left=left, color=COLORS[k],
                    label=names[k])
            left += counts[k].to_numpy()
        ax.set_yticks(np.arange(len(counts)), list(counts.index))
        ax.set_xlabel(w["nerves_axis"])
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        return fig


def _nerve_labels(pairs: pd.DataFrame, words: dict[str, Any], lang: str) -> pd.Series:
    """The nerve figure's bars: nerve and study. In English the ids as they are written
    (``median (motor)``); in another language the nerve's and the study's names."""
    return nerve_study_words(pairs["nerve"], pairs["study"], words, lang,
                             words["figures"]["nerve_study"], as_written=lang == "en")


@lru_cache(maxsize=4)
def _nucleus_labels(lang: str) -> dict[str, str]:
    """The segmental map's label of each cranial motor nucleus in ``lang``: its cranial nerve
    (English) or its name (another language) with its brainstem level."""
    words = load_labels(lang)
    nuclei = load_brainstem_nuclei()
    return {nuc: words["figures"]["nucleus"].format(
                cranial_nerve=str(cn).split("|")[0], nucleus=words["nuclei"].get(nuc, nuc),
                level=words["brainstem_levels"].get(lvl, lvl))
            for nuc, cn, lvl in zip(nuclei["nucleus"], nuclei["cranial_nerve"],
                                    nuclei["level"])}
