"""Figure per recording: MUAP templates, and duration vs amplitude against the reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_recording(analysis, path: str | Path) -> Path:
    """Write a PNG with the averaged MUAPs and a duration-amplitude plot.

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
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    waves = a.muaps.attrs.get("waveforms", np.empty((0, 0)))
    t = a.muaps.attrs.get("t_ms", np.empty(0))
    unit = a.recording.unit
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
    ax2.set_title(f"reading: {a.reading.pattern}")
    if a.reading.rule == "illustrative_rules" or a.reference is not None:
        from edxreview.signal._classify import ILLUSTRATIVE_CAVEAT

        fig.suptitle(f"({ILLUSTRATIVE_CAVEAT})", color="darkred", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
