"""Regenerate the bundled NMOSD demonstration cohort.

Writes the study workbook as a CSV folder (``src/edxreview/data/demo/``), its README, and the
intended classification of every patient (``tests/data/demo_cohort_truth.csv``), which stays
out of the workbook. Deterministic: running it twice gives byte-identical files.

Usage::

    python tools/make_demo_cohort.py [--out DIR] [--truth FILE] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edxreview.synth import generate_cohort, write_csv_folder

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "src" / "edxreview" / "data" / "demo"
TRUTH_FILE = ROOT / "tests" / "data" / "demo_cohort_truth.csv"
SEED = 20240601

README = """\
# Demonstration cohort (synthetic)

A synthetic study workbook shaped like a published retrospective review of 59 patients with
neuromyelitis optica spectrum disorder (NMOSD) who had nerve conduction studies, concentric
needle EMG and MRI. **It holds no real patient**: every value was drawn at random by
`edxreview.synth` from the parameters in `src/edxreview/synth/patterns.toml`.

The sheets follow the workbook contract (`patients`, `ncs_motor`, `ncs_sensory`, `f_waves`,
`blink_reflex`, `emg`, `mri`, one UTF-8 CSV each). They hold measurements only, no
classification: the review pipeline must derive the study's counts from them. Each patient was
built from a latent clinical scenario (carpal tunnel syndrome with APB denervation, cervical
myelitis with C5–C7 denervation, a normal study with fasciculations only, …) chosen so that the
published counts follow: EMG denervation 13, NCS neuropathy 7, denervation explained by NCS 4,
abnormal NCS without denervation 2, lower motor neuron involvement 9, with a corresponding MRI
lesion 4. Abnormal values lie far beyond the Preston & Shapiro adult limits and normal values
well inside them, so no count depends on a borderline value. The scenarios and intended
classifications are kept apart, in `tests/data/demo_cohort_truth.csv`.

Patients: {n_patients}; seed {seed}. Regenerate (byte-identical) with:

    python tools/make_demo_cohort.py
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEMO_DIR, help="folder for the sheets")
    parser.add_argument("--truth", type=Path, default=TRUTH_FILE, help="truth CSV to write")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    sheets, truth = generate_cohort(args.seed)
    write_csv_folder(sheets, args.out)
    (args.out / "README.md").write_text(
        README.format(n_patients=len(sheets["patients"]), seed=args.seed), encoding="utf-8")
    args.truth.parent.mkdir(parents=True, exist_ok=True)
    truth.to_csv(args.truth, index=False, encoding="utf-8", lineterminator="\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
