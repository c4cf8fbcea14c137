"""Figure per recording: MUAP templates, and duration vs amplitude against the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_recording(analysis, path: str | Path) -> Path:
    """Write a PNG with the averaged MUAPs, a duration-amplitude plot and the signal, the
    rest stretches in which spontaneous activity was graded shaded.

    Parameters
    ----------
    analysis : RecordingAnalysis
    path : str or Path
        PNG file to write.

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = analysis
    fig = plt.figure(figsize=(10, 5.6))
    grid = fig.add_gridspec(2, 2, height_ratios=(4, 1.6))
    ax1, ax2 = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    _plot_signal(a, fig.add_subplot(grid[1, :]))
    waves = a.muaps.attrs.get("waveforms", np.empty((0, 0)))
    t = a.muaps.attrs.get("t_ms", np.empty(0))
    unit = "µV" if a.recording.calibrated else "ADC units"
    if len(waves):
        step = 1.1 * np.max(np.ptp(waves, axis=1))
        for i, (y, row) in enumerate(zip(waves, a.muaps.itertuples())):
            off = -i * step
            ax1.plot(t, y - np.median(y) + off, lw=0.8)
            ax1.plot([row.onset_ms, row.end_ms], [off, off], "k|", ms=8)
            ax1.text(t[0], off, f"U{row.unit}", fontsize=7, va="bottom")
    ax1.set_xlabel("time (ms)")
    ax1.set_ylabel(f"MUAP ({unit}, offset per unit)")
    ax1.set_title(f"{a.recording.name}: {len(a.muaps)} units")
    amp_col = "amplitude_uv" if a.recording.calibrated else "amplitude_adu"
    if len(a.muaps):
        ax2.scatter(a.muaps["duration_ms"], a.muaps[amp_col], s=18)
    ref = a.reference
    if ref is not None:
        ax2.axvspan(ref.duration_lower_ms, ref.duration_upper_ms, color="g", alpha=0.12,
                    label="duration limits (mean of MUAPs)")
        if a.recording.calibrated:
            ax2.axhspan(ref.amplitude_lower_uv, ref.amplitude_upper_uv, color="b", alpha=0.08,
                        label="amplitude limits")
        s = a.summary
        ax2.plot([s["mean_duration_ms"]], [s["mean_amplitude_uv"] if a.recording.calibrated
                                          else s["mean_amplitude_adu"]], "r*", ms=12, label="mean")
        ax2.legend(fontsize=7)
    ax2.set_xlabel("duration (ms)")
    ax2.set_ylabel(f"peak-to-peak amplitude ({unit})")
    ax2.set_title(f"reading: {a.reading.pattern} (rule {a.reading.rule})")
    if a.reading.rule == "illustrative_rules" or a.reference is not None:
        from edxreview.signal._classify import ILLUSTRATIVE_CAVEAT

        fig.suptitle(f"({ILLUSTRATIVE_CAVEAT})", color="darkred", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _plot_signal(a, ax) -> None:
    """The measurement-band signal as a min/max envelope; rest graded for spontaneous activity
    shaded green, rest left out grey, with the spontaneous-activity line as the title."""
    from edxreview.signal._detect import filter_bands
    from edxreview.signal._spontaneous import describe_spontaneous

    measure, _ = filter_bands(a.recording)
    fs = a.recording.fs_hz
    k = max(1, measure.size // 2000)
    m = measure.size // k
    if m:
        env = measure[: m * k].reshape(m, k)
        t = (np.arange(m) + 0.5) * k / fs
        ax.fill_between(t, env.min(axis=1), env.max(axis=1), color="k", lw=0, alpha=0.8)
    seg = a.segments
    for r in seg[seg["state"] == "rest"].itertuples():
        ax.axvspan(r.start_s, r.end_s, color="0.6", alpha=0.25, lw=0)
    if a.rest is not None:
        for r in a.rest.stretches.itertuples():
            ax.axvspan(r.start_s, r.end_s, color="g", alpha=0.25, lw=0)
    ax.set_xlim(0, a.recording.duration_s)
    ax.set_xlabel("time (s)   [green: rest graded; grey: rest not graded]")
    ax.set_ylabel("µV" if a.recording.calibrated else "ADC units")
    ax.set_title(describe_spontaneous(a.grades), fontsize=8)
