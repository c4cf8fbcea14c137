"""Figure per recording: MUAP templates, and duration vs amplitude against the reference."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from edxreview.signal._acceptance import accepted_mask


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
    unit = "µV" if a.recording.calibrated else "ADC units"
    _plot_templates(a, ax1, unit)
    _plot_scatter(a, ax2, unit)
    if a.reading.rule == "illustrative_rules" or a.reference is not None:
        from edxreview.signal._classify import ILLUSTRATIVE_CAVEAT

        fig.suptitle(f"({ILLUSTRATIVE_CAVEAT})", color="darkred", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=90, bbox_inches="tight")  # the legends below a panel included
    plt.close(fig)
    return path


def _plot_templates(a, ax, unit: str) -> None:
    """The averaged MUAPs one above the other, each scaled to its own peak-to-peak height (a
    40 µV unit is as legible as a 4 mV one), its amplitude written at the right; the ticks
    mark each unit's onset and end."""
    waves = a.muaps.attrs.get("waveforms", np.empty((0, 0)))
    t = a.muaps.attrs.get("t_ms", np.empty(0))
    ok = accepted_mask(a.muaps) if len(a.muaps) else np.zeros(0, bool)
    ax.set_title(_fit(f"{a.recording.name}: {len(a.muaps)} units"
                      + (f" ({int((~ok).sum())} rejected, grey)" if (~ok).any() else "")))
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"MUAPs, each scaled to its height\n(peak-to-peak {unit} at right)",
                  fontsize=9)
    if not len(waves):
        ax.set_yticks([])
        return
    n = len(waves)
    lo, hi = waves.min(axis=1), waves.max(axis=1)
    ptp = hi - lo
    half = np.where(ptp > 0, ptp, 1.0) / 0.85  # each trace fills 85 % of its slot
    mid = (hi + lo) / 2
    base = np.median(waves, axis=1)
    offs = -np.arange(n, dtype=float)
    amp_col = "amplitude_uv" if a.recording.calibrated else "amplitude_adu"
    for i, (y, row) in enumerate(zip(waves, a.muaps.itertuples())):
        grey = {} if ok[i] else {"color": "0.6"}   # rejected: not in any mean
        ax.plot(t, (y - mid[i]) / half[i] + offs[i], lw=0.8, **grey)
        b = (base[i] - mid[i]) / half[i] + offs[i]
        ax.plot([row.onset_ms, row.end_ms], [b, b], "k|", ms=7)
    size = 8 if n <= 12 else 7 if n <= 18 else 6
    ax.set_ylim(offs[-1] - 0.6, 0.6)
    ax.set_yticks(offs, [f"U{u}" for u in a.muaps["unit"]], fontsize=size)
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    amps = a.muaps[amp_col].to_numpy(float)
    right.set_yticks(offs, [f"{v:.0f}" if np.isfinite(v) else "" for v in amps], fontsize=size)
    right.tick_params(length=0)
    ax.text(1.0, 1.0, unit, transform=ax.transAxes, ha="left", va="bottom", fontsize=size)


def _plot_scatter(a, ax, unit: str) -> None:
    """Duration against amplitude of every MUAP (log amplitude axis), and the recording's mean
    against the reference's limits: a lab reference's limits for a mean of this many MUAPs
    (from the z-score table; the amplitude there is the geometric mean), or the illustrative
    table's."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    amp_col = "amplitude_uv" if a.recording.calibrated else "amplitude_adu"
    m = a.muaps
    amps = m[amp_col].to_numpy(float) if len(m) else np.empty(0)
    ok = accepted_mask(m) if len(m) else np.zeros(0, bool)
    if len(m):
        ax.scatter(m["duration_ms"][ok], amps[ok], s=18, label="MUAPs")
        if (~ok).any():
            ax.scatter(m["duration_ms"][~ok], amps[~ok], s=14, marker="x", color="0.6",
                       label="rejected MUAPs (not in the mean)")
    z = a.zscores
    ref = a.reference
    if z is not None and len(z):
        from edxreview.signal._reference import native_zscores

        nat = native_zscores(z)
        k = int(ok.sum())
        lim = float(nat["limit"].iloc[0])
        if "duration_ms" in nat.index:
            d = nat.loc["duration_ms"]
            ax.axvspan(d["lower"], d["upper"], color="g", alpha=0.12,
                       label=f"duration limits, mean of {k} MUAPs")
        has_amp = "log_amplitude" in nat.index
        if has_amp:
            r = nat.loc["log_amplitude"]
            ax.axhspan(r["lower"], r["upper"], color="b", alpha=0.08,
                       label=f"amplitude limits, geometric mean of {k} MUAPs")
        y = nat.at["log_amplitude", "value"] if has_amp else (
            float(np.exp(np.log(amps[ok & (amps > 0)]).mean())) if (ok & (amps > 0)).any()
            else np.nan)
        x = nat.at["duration_ms", "value"] if "duration_ms" in nat.index else np.nan
        beyond = [f for f in ("duration_ms", "log_amplitude") if f in nat.index
                  and nat.at[f, "beyond"]]
        ax.plot([x], [y], "*", color="red" if beyond else "k", ms=13, mec="w", mew=0.6,
                label=("mean, beyond a limit" if beyond else "mean, within the limits")
                + f" (|z| limit {lim:.2f})", zorder=5)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
                  frameon=False)
    elif ref is not None:
        ax.axvspan(ref.duration_lower_ms, ref.duration_upper_ms, color="g", alpha=0.12,
                   label="duration limits (mean of MUAPs)")
        if a.recording.calibrated:
            ax.axhspan(ref.amplitude_lower_uv, ref.amplitude_upper_uv, color="b", alpha=0.08,
                       label="amplitude limits")
        s = a.summary
        ax.plot([s["mean_duration_ms"]], [s["mean_amplitude_uv"] if a.recording.calibrated
                                          else s["mean_amplitude_adu"]], "r*", ms=12, label="mean")
        ax.legend(fontsize=7)
    elif (~ok).any():
        ax.legend(fontsize=7)
    if (amps > 0).any():
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("duration (ms)")
    ax.set_ylabel(f"peak-to-peak amplitude ({unit}, log scale)")
    ax.set_title(_fit(f"reading: {a.reading.pattern} (rule {a.reading.rule})"))


def _fit(title: str, width: int = 44) -> str:
    """A panel title wrapped to lines of at most ``width`` characters, so that a long file
    name or rule id stays inside its half of the figure."""
    return "\n".join(textwrap.wrap(title, width)) or title


def _plot_signal(a, ax) -> None:
    """The measurement-band signal as a min/max envelope; rest graded for spontaneous activity
    shaded green, rest left out grey, with the spontaneous-activity line as the title."""
    import textwrap

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
    ax.set_title(textwrap.fill(describe_spontaneous(a.grades), 120), fontsize=8)
