"""Synthetic needle-EMG signals whose truth is known.

Waveforms here are built from Gaussian-derivative shapes and exponential tails, independent of
the detector's templates and thresholds.
"""

from __future__ import annotations

import numpy as np


def muap_shape(fs_hz: float, duration_ms: float, amplitude_uv: float, phases: int = 3) -> np.ndarray:
    """A MUAP-like waveform: a Hermite-type multiphasic pulse spanning ``duration_ms``."""
    n = int(round(duration_ms * 1e-3 * fs_hz))
    t = np.linspace(-3, 3, n)
    g = np.exp(-(t**2) / 2)
    if phases <= 2:
        y = -t * g
    elif phases == 3:
        y = (1 - t**2) * g
    else:
        y = np.polynomial.hermite_e.hermeval(t, [0] * phases + [1]) * g
    return amplitude_uv * y / np.ptp(y)


def spike_train(rng, rate_hz: float, duration_s: float, cv: float, start_s: float = 0.05) -> np.ndarray:
    """Firing times (s) with mean rate ``rate_hz`` and interval CV ``cv``."""
    times, t = [], start_s
    while t < duration_s - 0.05:
        times.append(t)
        t += max(0.004, rng.normal(1 / rate_hz, cv / rate_hz))
    return np.array(times)


def add_train(x: np.ndarray, fs_hz: float, wave: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Add ``wave`` at each time; returns the sample index of each wave's centre."""
    c = (times * fs_hz).astype(int)
    h = wave.size // 2
    for s in c:
        a, b = s - h, s - h + wave.size
        if a >= 0 and b <= x.size:
            x[a:b] += wave
    return c


def spiky_muap(fs_hz: float, duration_ms: float, amplitude_uv: float, phases: int = 3,
               spike_ms: float = 1.6) -> np.ndarray:
    """A MUAP shaped like a concentric-needle one: a brief main spike (``spike_ms``, from the
    fibres near the needle) riding on slow, low initial and terminal phases that make up the
    rest of ``duration_ms`` (about 10 % of the peak-to-peak amplitude)."""
    n = int(round(duration_ms * 1e-3 * fs_hz)) | 1
    t = np.arange(n) - n // 2
    spike = muap_shape(fs_hz, spike_ms, 1.0, phases)
    y = np.zeros(n)
    a = n // 2 - spike.size // 2
    y[a : a + spike.size] = spike / np.ptp(spike)
    s = n / 6.0
    slow = -(t / s) * np.exp(-((t / s) ** 2) / 2)  # initial positive, terminal negative
    y += 0.1 * slow / np.ptp(slow)
    return amplitude_uv * y / np.ptp(y)


def weak_contraction(fs_hz=10000.0, duration_s=6.0, noise_uv=10.0, seed=1, units=None,
                     spiky=False, spike_ms=1.6):
    """Signal with a few motor units firing at 8-12 Hz; returns (x, truth list of (unit, samples)).

    ``spiky=True`` builds each MUAP with :func:`spiky_muap` (a brief main spike on slow phases,
    as recorded near the fibres, its spike lasting ``spike_ms``) instead of one smooth
    multiphasic pulse spanning the duration.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(0, noise_uv, int(duration_s * fs_hz))
    units = units or [(10.0, 800.0, 3), (8.0, 500.0, 2), (12.0, 350.0, 4)]
    truth = []
    for i, (dur, amp, ph) in enumerate(units):
        w = (spiky_muap(fs_hz, dur, amp, ph, spike_ms=spike_ms) if spiky
             else muap_shape(fs_hz, dur, amp, ph))
        times = spike_train(rng, rng.uniform(8, 12), duration_s, 0.12, start_s=0.05 + 0.013 * i)
        truth.append((i, add_train(x, fs_hz, w, times)))
    return x, truth


def fibrillation_wave(fs_hz: float, amplitude_uv: float = 150.0) -> np.ndarray:
    """Brief (~2.5 ms) biphasic spike with an initial positive phase."""
    n = int(round(2.5e-3 * fs_hz))
    t = np.linspace(-3, 3, n)
    y = -t * np.exp(-(t**2) / 2)  # positive first, then negative
    return amplitude_uv * y / np.ptp(y)


#: five motor units (duration ms, amplitude µV, phases): enough MUAPs in one recording for the
#: lab classifier's per-recording features (at least [lab_classifier] min_muaps)
#: (sizes far enough apart that the decomposition keeps them apart)
FIVE_UNITS = [(10.0, 1200.0, 3), (8.0, 700.0, 2), (12.0, 450.0, 4), (9.0, 280.0, 3),
              (11.0, 180.0, 2)]


def raw_contractions(folder, n: int, seed: int, duration_s: float = 4.0, prefix: str = "r",
                     units=None) -> list[str]:
    """``n`` weak contractions (:func:`weak_contraction`, seeds ``seed``, ``seed + 1`` ...)
    written as raw int16 files ``<prefix><i>.bin`` in ``folder`` at 5 ADC units per µV
    (``--fs 10000 --gain 5000``); their paths. ``units`` default: :data:`FIVE_UNITS`. The MUAPs are spiky (:func:`spiky_muap`): a
    main spike of 1.2 ms that rises (positive to negative peak) within 0.4 ms, as one recorded
    near the fibres, so that the acceptance criteria keep them (the smooth pulses of
    :func:`muap_shape` rise over milliseconds)."""
    files = []
    units = units or FIVE_UNITS
    for i in range(n):
        x, _ = weak_contraction(seed=seed + i, duration_s=duration_s, units=units, spiky=True,
                                spike_ms=1.2)
        p = folder / f"{prefix}{i}.bin"
        np.round(x * 5).astype("<i2").tofile(p)
        files.append(str(p))
    return files
