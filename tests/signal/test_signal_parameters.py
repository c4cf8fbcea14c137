"""The parameter file is the one source of the signal analysis' settings: no setting it holds
has a second value in code (a ``.get(name, number)`` fallback), and the settings that were
literals in code are there, with their values unchanged and a source that says what it is."""

import ast
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from edxreview.signal._params import load_signal_parameters

SIGNAL = Path(__file__).resolve().parents[2] / "src" / "edxreview" / "signal"


def _keys(d: dict) -> set[str]:
    out = set()
    for k, v in d.items():
        out |= _keys(v) if isinstance(v, dict) else {k}
    return out


#: the names the signal code gives a section of the parameter file
SECTION_NAMES = {"p", "pm", "pl", "po", "pf", "ps", "params"}


def test_no_parameter_of_the_file_has_a_fallback_value_in_code():
    """A section's setting read with ``p.get(name, value)`` has a second value, used silently
    when the file lacks it (``satellite_split_half`` fell back to false, the file says true)."""
    keys = _keys(load_signal_parameters())
    found = []
    for f in sorted(SIGNAL.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get" and len(node.args) == 2
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in SECTION_NAMES
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value in keys
                    and isinstance(node.args[1], ast.Constant)):
                found.append(f"{f.name}:{node.lineno} {node.args[0].value}")
    assert not found, found


@pytest.mark.parametrize(("section", "name", "value"), [
    ("sorting", "batch_rounds", 4), ("sorting", "locked_tolerance_ms", 0.2),
    # spontaneous activity (were literals of _spontaneous.py)
    ("spontaneous", "potential_half_window_ms", 20.0), ("spontaneous", "group_window_ms", 3.0),
    ("spontaneous", "group_max_shift_ms", 1.0), ("spontaneous", "group_size_ratio_min", 0.6),
    ("spontaneous", "group_size_ratio_max", 1.6), ("spontaneous", "group_min_similarity", 0.8),
    ("spontaneous", "polarity_band_sd", 3.0), ("spontaneous", "polarity_band_fraction_pp", 0.05),
    ("spontaneous", "regular_max_interval_factor", 2.5),
    ("spontaneous", "missed_max_intervals", 3), ("spontaneous", "missed_max_fraction", 0.25),
    # filtering and the robust noise SD (were literals of _detect.py and _muap.py)
    ("filters", "mains_find_harmonics", 3),
    ("filters", "detect_lowpass_max_fs_fraction", 0.4),
    ("filters", "lowpass_max_nyquist_fraction", 0.9),
    ("detection", "noise_block_ms", 5.0), ("detection", "noise_block_min_samples", 4),
    ("detection", "noise_min_blocks", 20), ("detection", "noise_percentile", 10.0),
    ("detection", "window_min_samples", 2),
    # measurement (were literals of _measure.py)
    ("measurement", "spike_fraction_of_peak", 0.5),
    ("measurement", "baseline_edge_min_samples", 3),
    ("measurement", "baseline_edge_max_fraction", 0.25),
    ("measurement", "baseline_edge_fallback_fraction", 0.1),
    ("measurement", "quiet_min_samples", 2),
    # sorting (were literals of _templates.py, _muap.py and _pursuit.py)
    ("sorting", "gap_min_discharges", 4), ("sorting", "gap_max_missed", 2),
    ("sorting", "build_mean_max_members", 50), ("sorting", "template_max_discharges", 100),
    ("sorting", "cluster_min_discharges_fraction", 0.5),
    ("sorting", "cluster_min_discharges_floor", 3), ("sorting", "refine_sample_discharges", 100),
    ("sorting", "final_drop_passes", 3),
    # measurement (were literals of _measure.py)
    ("measurement", "satellite_peak_window_ms", 1.0),
    ("measurement", "firing_interval_min_ms", 20.0),
    ("measurement", "firing_interval_max_ms", 500.0),
    ("measurement", "median_average_noise_factor", 1.25),
    # the acceptance of an average (the remote-unit rise time; its tests assume 0.5 ms)
    ("acceptance", "rise_time_max_ms", 0.5),
])
def test_settings_that_were_literals_are_in_the_file(section, name, value):
    assert load_signal_parameters()[section][name] == value
    meta = tomllib.loads(resources.files("edxreview.knowledge.data").joinpath(
        "emg_signal_parameters.meta.toml").read_text("utf-8"))
    named = [s for s in meta["sources"].values() if name in s.get("used_for", "")
             or name in s.get("citation", "")]
    assert named and all(s["status"] in {"verified", "abstract read", "secondary", "unsourced",
                                         "convention"} for s in named), name


def test_the_baseline_edge_fallback_is_read_from_the_file():
    """``baseline_edge_ms`` when it fits in a quarter of the window, else a tenth of the window,
    at least 3 samples: each number from ``[measurement]``, none from code."""
    from edxreview.signal._measure import _edge_samples

    p = dict(load_signal_parameters()["measurement"])
    fs = 10_000.0  # baseline_edge_ms 4 ms = 40 samples
    assert _edge_samples(300, fs, p) == 40   # fits in a quarter of 300
    assert _edge_samples(100, fs, p) == 10   # 40 > 25: a tenth of the window
    assert _edge_samples(20, fs, p) == 3     # a tenth is 2: at least 3
    assert _edge_samples(100, fs, {**p, "baseline_edge_fallback_fraction": 0.2}) == 20
    assert _edge_samples(100, fs, {**p, "baseline_edge_max_fraction": 0.5}) == 40
    assert _edge_samples(20, fs, {**p, "baseline_edge_min_samples": 5}) == 5


def test_the_spike_duration_fraction_is_read_from_the_file():
    """The spike duration spans the samples above ``spike_fraction_of_peak`` of the main peak:
    a higher fraction, a shorter spike."""
    import numpy as np

    from edxreview.signal._measure import measure_waveform

    fs = 20_000.0
    t = np.arange(-240, 361) / fs * 1e3                      # ms, discharge at sample 240
    y = 300 * np.exp(-(t / 0.4) ** 2) - 120 * np.exp(-((t - 1.0) / 0.6) ** 2)
    half = measure_waveform(y, fs, 240, 1.0)["spike_duration_ms"]
    high = measure_waveform(y, fs, 240, 1.0, params={"spike_fraction_of_peak": 0.9})
    assert 0 < high["spike_duration_ms"] < half
