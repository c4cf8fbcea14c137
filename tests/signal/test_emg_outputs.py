"""What ``emg analyze`` and ``emg reference build`` write for a reader: the means and limits of
subjects.csv in native units, the figure's limits and traces, muaps.csv's rounding, the column
dictionary docs/emg-outputs.md (checked against the columns actually written) and the
messages around a lab reference."""

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _cli import emg_cli as _cli  # noqa: E402
from _synth import weak_contraction  # noqa: E402

from edxreview.signal import Recording, analyze_recording
from edxreview.signal._reference import (
    build_lab_reference,
    limit_columns,
    limits_for_mean,
    muap_features,
    native_zscores,
    read_muscle_against_reference,
    zscore_muscle,
)

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "emg-outputs.md"
FILES = ("recordings.csv", "muaps.csv", "subjects.csv", "emg_rows.csv")


def _muaps(recording, n, duration_ms, amplitude_uv, rng, phases=3.0):
    return pd.DataFrame({
        "recording": recording,
        "duration_ms": rng.normal(duration_ms, 2.0, n),
        "amplitude_uv": amplitude_uv * np.exp(rng.normal(0, 0.2, n)),
        "amplitude_adu": np.nan,
        "phases": np.clip(np.round(rng.normal(phases, 0.7, n)), 1, None),
        "turns": np.clip(np.round(rng.normal(phases, 0.7, n)), 1, None),
        "thickness_ms": rng.normal(2.0, 0.2, n),
        "polyphasic": False,
    })


def _reference(duration_ms=10.0, amplitude_uv=400.0, muscle="biceps_brachii"):
    """A lab reference of 6 synthetic control subjects, 2 recordings each."""
    rng = np.random.default_rng(0)
    recs, muaps = [], []
    for i in range(6):
        d, a = rng.normal(duration_ms, 0.5), amplitude_uv * np.exp(rng.normal(0, 0.05))
        for j in range(2):
            r = f"c{i}-r{j}"
            recs.append({"recording": r, "subject": f"c{i}", "muscle": muscle})
            muaps.append(_muaps(r, 15, d + rng.normal(0, 0.3), a, rng))
    return build_lab_reference(pd.concat(muaps, ignore_index=True), pd.DataFrame(recs), lab="syn")


# ------------------------------------------------------------------ C3: native units, words
def test_the_reasons_give_each_mean_against_its_limits_in_native_units():
    ref = _reference()
    test = _muaps("t", 25, 16.0, 400.0, np.random.default_rng(5))  # long MUAPs
    reading, z = read_muscle_against_reference(test, ref, "biceps_brachii")
    assert reading.rule == "lab_large"
    d = z.loc["duration_ms"]
    assert d["z"] > d["limit"]
    text = "; ".join(reading.reasons)
    assert (f"mean duration {d['value']:.1f} ms, above the upper limit {d['upper']:.1f} ms "
            f"(z {d['z']:+.2f} > {d['limit']:.2f})") in text
    amp = 10 ** z.at["log_amplitude", "value"]
    lo, hi = 10 ** z.at["log_amplitude", "lower"], 10 ** z.at["log_amplitude", "upper"]
    assert f"geometric mean amplitude {amp:.0f} µV, within {lo:.0f} to {hi:.0f} µV" in text
    assert "sign = " not in text and "log10 amplitude" not in text
    assert "abnormal when beyond the controls' limits for a mean of 25 MUAPs" in text
    assert "large MUAPs: mean duration above its upper limit" in text


def test_subjects_columns_hold_the_means_and_the_limits_for_that_many_muaps():
    ref = _reference()
    test = _muaps("t", 25, 16.0, 150.0, np.random.default_rng(6))  # long and small: mixed
    reading, z = read_muscle_against_reference(test, ref, "biceps_brachii")
    assert reading.rule == "lab_mixed"   # the rule itself is unchanged
    cols = limit_columns(test, z, "uV")
    assert cols["mean_duration_ms"] == round(test["duration_ms"].mean(), 2)
    assert cols["duration_upper_ms"] == round(z.at["duration_ms", "upper"], 2)
    geo = 10 ** np.log10(test["amplitude_uv"]).mean()
    assert cols["geo_mean_amplitude_uv"] == pytest.approx(geo, abs=0.051)
    assert cols["amplitude_lower_uv"] == pytest.approx(10 ** z.at["log_amplitude", "lower"],
                                                       abs=0.051)
    assert cols["geo_mean_amplitude_uv"] < cols["amplitude_lower_uv"]
    assert cols["mean_duration_ms"] > cols["duration_upper_ms"]
    beyond = cols["beyond_limits"].split("; ")
    assert {"duration above", "amplitude below"} <= set(beyond)
    # exactly the parameters whose |z| exceeds the limit, in the z table's order
    want = [f for f in z.index if abs(z.at[f, "z"]) > z.at[f, "limit"]]
    assert len(beyond) == len(want)
    assert cols["z_limit"] == pytest.approx(z["limit"].iloc[0], abs=1e-3)
    assert np.isnan(cols["geo_mean_amplitude_adu"]) and np.isnan(cols["amplitude_upper_adu"])
    # not judged (no z table): the means are still measured, the limits are empty
    empty = limit_columns(test, z.iloc[0:0], "uV")
    assert empty["mean_duration_ms"] == cols["mean_duration_ms"]
    assert np.isnan(empty["duration_upper_ms"]) and empty["beyond_limits"] == ""


def test_native_limits_are_the_z_limits_transformed():
    ref = _reference()
    test = _muaps("t", 20, 10.0, 400.0, np.random.default_rng(7))
    z = zscore_muscle(muap_features(test), ref, "biceps_brachii")
    nat = native_zscores(z)
    # a mean of the same number of MUAPs has the same limits
    lim = limits_for_mean(ref, "biceps_brachii", 20)
    for f in ("duration_ms", "log_amplitude", "phases"):
        assert lim.at[f, "lower"] == pytest.approx(nat.at[f, "lower"])
        assert lim.at[f, "upper"] == pytest.approx(nat.at[f, "upper"])
    assert nat.at["log_amplitude", "upper"] == pytest.approx(10 ** z.at["log_amplitude", "upper"])
    # fewer MUAPs, wider limits
    few = limits_for_mean(ref, "biceps_brachii", 5)
    assert few.at["duration_ms", "upper"] > lim.at["duration_ms", "upper"]


# ------------------------------------------------------------------ C6: the figure
def _analysis_with_lab_reference():
    x, _ = weak_contraction(seed=3, duration_s=3.0,
                            units=[(10.0, 1600.0, 3), (8.0, 500.0, 2), (12.0, 60.0, 4)])
    rec = Recording(samples=x, fs_hz=10_000.0, calibrated=True, name="syn")
    ref = _reference()
    a = analyze_recording(rec, muscle="biceps_brachii", reference=ref)
    # three units are too few to judge; the figure draws the z table an analysis of ten or
    # more would hold
    a.zscores = zscore_muscle(muap_features(a.muaps), ref, "biceps_brachii")
    return a


def test_the_figure_draws_the_lab_limits_and_scales_each_unit(tmp_path, monkeypatch):
    import matplotlib.figure
    from matplotlib.patches import Polygon, Rectangle

    from edxreview.signal._figures import plot_recording

    seen = {}
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig",
                        lambda fig, *a, **k: seen.setdefault("fig", fig))
    a = _analysis_with_lab_reference()
    assert len(a.muaps) >= 3
    plot_recording(a, tmp_path / "r.png")
    ax1, ax2 = seen["fig"].axes[:2]
    nat = native_zscores(a.zscores)
    boxes = [p.get_path().transformed(p.get_patch_transform()).get_extents()
             if isinstance(p, Rectangle) else None for p in ax2.patches]
    spans = [np.asarray(p.get_xy()) if isinstance(p, Polygon) else
             np.array([[b.x0, b.y0], [b.x1, b.y1]]) for p, b in zip(ax2.patches, boxes)]
    # axvspan / axhspan are drawn in axes coordinates across: compare data extents only
    xs = [(np.min(xy[:, 0]), np.max(xy[:, 0])) for xy in spans]
    ys = [(np.min(xy[:, 1]), np.max(xy[:, 1])) for xy in spans]
    d, amp = nat.loc["duration_ms"], nat.loc["log_amplitude"]
    assert any(np.allclose(x, (d["lower"], d["upper"])) for x in xs), xs
    assert any(np.allclose(y, (amp["lower"], amp["upper"])) for y in ys), ys
    stars = [ln for ln in ax2.get_lines() if ln.get_marker() == "*"]
    assert len(stars) == 1
    assert np.allclose(np.r_[stars[0].get_xdata(), stars[0].get_ydata()],
                       (d["value"], amp["value"]))
    # every trace fills its own slot, whatever its amplitude (60 µV beside 1.6 mV)
    traces = [ln for ln in ax1.get_lines() if ln.get_linestyle() == "-"]
    heights = [np.ptp(ln.get_ydata()) for ln in traces]
    assert len(heights) == len(a.muaps) and np.allclose(heights, heights[0])
    right = [ax for ax in seen["fig"].axes if ax is not ax1 and ax.bbox.bounds == ax1.bbox.bounds]
    labels = [t.get_text() for t in right[0].get_yticklabels()]
    assert labels == [f"{v:.0f}" for v in a.muaps["amplitude_uv"]]


# ------------------------------------------------------------------ K1: the command's outputs


def _documented() -> dict[str, set[str]]:
    """The columns listed per file in docs/emg-outputs.md."""
    out, current = {}, None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        head = re.match(r"^## `([\w.]+)`", line)
        if head:
            current = head.group(1)
            out[current] = set()
        row = re.match(r"^\| `(\w+)` \|", line)
        if row and current:
            out[current].add(row.group(1))
    return out


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One run of emg analyze writing all four tables, the classifier's columns included (a
    reference holding a lab classifier trained on synthetic labelled subjects)."""
    from test_classifier import _labelled, _units

    from edxreview.signal import _classifier as clf

    tmp = tmp_path_factory.mktemp("emgout")
    ref = _reference()
    ref.classifier = clf.fit_classifier(_units(*_labelled()))
    ref.write(tmp / "ref.toml")
    x, _ = weak_contraction(seed=4, duration_s=3.0, spiky=True, spike_ms=1.2)
    p = tmp / "rec1.bin"
    np.round(x * 5).astype("<i2").tofile(p)
    out = tmp / "out"
    assert _cli(["emg", "analyze", str(p), "--fs", "10000", "--gain", "5000", "--muscle",
                 "biceps_brachii", "--reference", str(tmp / "ref.toml"), "--subject", "S1",
                 "--patient", "P1", "--side", "R", "--out", str(out), "-q", "--no-figures"]) == 0
    return out


def test_every_written_column_is_documented_and_every_documented_one_written(written):
    doc = _documented()
    assert set(doc) == set(FILES)
    for name in FILES:
        cols = list(pd.read_csv(written / name, nrows=0).columns)
        assert len(cols) == len(set(cols)), name
        assert set(cols) - doc[name] == set(), f"{name}: columns not in {DOC.name}"
        assert doc[name] - set(cols) == set(), f"{DOC.name} lists columns {name} lacks"


def test_the_readme_links_the_column_dictionary():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/emg-outputs.md" in readme


def test_muaps_csv_is_rounded_as_recordings_csv(written):
    from edxreview.signal._analyze import MUAP_CSV_DECIMALS

    m = pd.read_csv(written / "muaps.csv", dtype=str)
    assert len(m)
    for col, d in MUAP_CSV_DECIMALS.items():
        vals = m[col].dropna()
        if len(vals):  # the amplitude in ADC units is empty for a calibrated recording
            assert vals.map(lambda v: len(v.split(".")[1]) if "." in v else 0).max() <= d, col
    r = pd.read_csv(written / "recordings.csv", dtype=str)
    assert len(r.loc[0, "mean_duration_ms"].split(".")[-1]) <= MUAP_CSV_DECIMALS["duration_ms"]


def test_a_table_given_as_reference_points_to_subjects(tmp_path, capsys):
    x, _ = weak_contraction(seed=4, duration_s=1.0)
    p = tmp_path / "rec1.bin"
    np.round(x * 5).astype("<i2").tofile(p)
    table = tmp_path / "subjects.csv"
    table.write_text("file,subject,muscle\nrec1,S1,biceps_brachii\n", encoding="utf-8")
    assert _cli(["emg", "analyze", str(p), "--fs", "10000", "--muscle", "biceps_brachii",
                 "--reference", str(table), "--out", str(tmp_path / "o"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "a lab reference is the .toml written by 'edxreview emg reference build'" in err
    assert "Did you mean --subjects?" in err
    assert not (tmp_path / "o").exists()


def test_reference_build_prints_the_limits_for_a_mean_of_20_muaps(tmp_path, capsys):
    from edxreview.cli.emg import _print_reference

    ref = _reference()
    _print_reference(ref, ["biceps_brachii"], {"biceps_brachii"})
    out = capsys.readouterr().out
    lim = limits_for_mean(ref, "biceps_brachii", 20)
    d, a, ph = lim.loc["duration_ms"], lim.loc["log_amplitude"], lim.loc["phases"]
    assert (f"limits for a mean of 20 MUAPs (|z| > {d['limit']:.2f}): duration "
            f"{d['lower']:.1f} to {d['upper']:.1f} ms, amplitude {a['lower']:.0f} to "
            f"{a['upper']:.0f} µV (geometric mean), phases {ph['lower']:.2f} to "
            f"{ph['upper']:.2f}") in out
