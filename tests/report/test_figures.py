"""Segmental map cells: denervated segments or nuclei against MRI lesion segments."""

import pandas as pd
import pytest

from edxreview.knowledge._tables import load_segments
from edxreview.report._figures import segment_cells, segment_columns


def _muscle(pid, segments, explained, nucleus=None):
    return {"patient_id": pid, "segments": segments, "nucleus": nucleus,
            "explained_by_ncs": explained, "denervation": True}


def _lesion(pid, seg_from, seg_to):
    pos = load_segments()["position"]
    return {"patient_id": pid, "pos_min": float(pos[seg_from]), "pos_max": float(pos[seg_to])}


@pytest.mark.parametrize("muscles, lesions, unexplained, mri", [
    ([_muscle("A", "C5|C6", False)], [_lesion("A", "C4", "C7")],
     {("A", "C5"): True, ("A", "C6"): True}, {("A", s) for s in ("C4", "C5", "C6", "C7")}),
    ([_muscle("B", "C8|T1", True), _muscle("B", "C8", False)], [],
     {("B", "C8"): True, ("B", "T1"): False}, set()),
    ([_muscle("C", None, False, nucleus="hypoglossal nucleus")],
     [_lesion("C", "medulla", "medulla")],
     {("C", "hypoglossal nucleus"): True}, {("C", "hypoglossal nucleus")}),
], ids=["cervical myelitis C5-C6 within lesion", "carpal tunnel APB beside C8 LMN",
        "hypoglossal nucleus with medullary lesion"])
def test_segment_cells(muscles, lesions, unexplained, mri):
    m = pd.DataFrame(muscles)
    les = pd.DataFrame(lesions, columns=["patient_id", "pos_min", "pos_max"])
    den, cover = segment_cells(m, les, segment_columns(m))
    assert {(p, s): u for p, s, u in den.itertuples(index=False)} == unexplained
    assert set(map(tuple, cover[["patient_id", "segment"]].to_numpy())) == mri


def test_columns_run_from_nuclei_to_s5():
    cols = segment_columns()
    assert cols["key"].iloc[-1] == "S5"
    assert "C1" in set(cols["key"]) and "facial nucleus" in set(cols["key"])
    assert cols["position"].is_monotonic_increasing


# --- journal figures: Figure objects, no titles, colour-blind-safe categories ---------------

import itertools  # noqa: E402

import numpy as np  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from edxreview import demo_path  # noqa: E402
from edxreview._pipeline import review_study  # noqa: E402
from edxreview.report._figures import save_figure  # noqa: E402

#: smallest colour difference kept between any two categories of one figure, in CAM02-UCS
#: ΔE (Luo, Cui & Li 2006): about 20 units is an obvious difference at a glance, where 1 is
#: just noticeable
MIN_DELTA_E = 20.0


@pytest.fixture(scope="module")
def demo_figures():
    return review_study(demo_path()).figures()


def _category_colours(fig: Figure) -> list[tuple[float, float, float]]:
    """Distinct opaque, non-white fill colours of a figure's bars, dots and legend keys."""
    seen = []
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    artists = [a for ax in fig.axes for a in (*ax.patches, *ax.collections)]
    artists += [h for leg in legends for h in leg.legend_handles]
    for artist in artists:
        colours = (artist.get_facecolor(),)
        if hasattr(artist, "get_facecolors"):
            colours = tuple(artist.get_facecolors())
        for c in colours:
            r, g, b, a = to_rgba(c)
            rgb = (round(r, 3), round(g, 3), round(b, 3))
            if a > 0.5 and rgb != (1.0, 1.0, 1.0) and rgb not in seen:
                seen.append(rgb)
    return seen


@pytest.mark.parametrize("cvd", ["none", "deuteranomaly", "protanomaly", "tritanomaly"],
                         ids=["normal vision", "deuteranopia", "protanopia", "tritanopia"])
def test_categories_stay_distinguishable_under_colour_blindness(demo_figures, cvd):
    """Machado, Oliveira & Fernandes 2009 simulation at full severity (colorspacious)."""
    colorspacious = pytest.importorskip("colorspacious")
    for key, fig in demo_figures.items():
        colours = np.array(_category_colours(fig))
        assert len(colours) >= 2, key
        seen = colours if cvd == "none" else np.clip(colorspacious.cspace_convert(
            colours, {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}, "sRGB1"), 0, 1)
        ucs = colorspacious.cspace_convert(seen, "sRGB1", "CAM02-UCS")
        worst = min(np.linalg.norm(a - b) for a, b in itertools.combinations(ucs, 2))
        assert worst >= MIN_DELTA_E, (key, cvd, round(float(worst), 1))


def test_figures_are_untitled_figure_objects(demo_figures):
    assert set(demo_figures) == {"overlap", "segmental_map", "muscles", "nerves"}
    for key, fig in demo_figures.items():
        assert isinstance(fig, Figure)
        assert not fig._suptitle and all(not ax.get_title(loc) for ax in fig.axes
                                         for loc in ("left", "center", "right")), key
        labels = [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]
        assert not any("rows" in lab or "_" in lab for lab in labels), labels


def test_save_figure_writes_svg_png_300_dpi_and_pdf(demo_figures, tmp_path):
    from PIL import Image

    paths = save_figure(demo_figures["muscles"], tmp_path / "muscles", "muscles")
    assert [p.suffix for p in paths] == [".svg", ".png", ".pdf"]
    with Image.open(paths[1]) as im:
        assert round(im.info["dpi"][0]) == 300
    assert paths[2].read_bytes().startswith(b"%PDF")
    again = save_figure(demo_figures["muscles"], tmp_path / "again", "muscles")
    assert again[0].read_text() == paths[0].read_text()      # reproducible SVG


def test_report_saves_each_figure_as_svg_png_and_pdf(tmp_path, monkeypatch):
    from edxreview.report import _render, render_report

    monkeypatch.setattr(_render, "FIGURE_FORMATS", ("svg", "png", "pdf"))   # the default
    render_report(review_study(demo_path()), tmp_path, xlsx=False)
    names = {p.name for p in (tmp_path / "figures").iterdir()}
    for key in ("overlap", "segmental_map", "muscles", "nerves"):
        assert {f"{key}.svg", f"{key}.png", f"{key}.pdf"} <= names
    assert "flow.svg" in names
