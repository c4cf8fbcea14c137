"""What ``edxreview emg analyze`` and ``emg reference build`` tell a first-time user: the
subject-level reading on the screen, caveats, usage errors before any file is read, and the
checks of muscle names and --subjects tables (synthetic recordings, fast)."""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _synth import weak_contraction  # noqa: E402
from test_classifier import _labelled, _units  # noqa: E402
from test_reference import _lab  # noqa: E402

from edxreview.signal import _classifier as clf
from edxreview.signal._reference import LabReference, build_lab_reference


def _cli(argv):
    from edxreview.cli import emg

    parser = argparse.ArgumentParser()
    emg.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def _help(*words) -> str:
    from edxreview.cli import emg

    parser = argparse.ArgumentParser(prog="edxreview")
    emg.add_parser(parser.add_subparsers(dest="command"))
    sub = parser
    for w in words:
        sub = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction)).choices[w]
    return " ".join(sub.format_help().split())


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Three synthetic raw int16 recordings of a weak contraction (gain 5000 ADU/mV)."""
    folder = tmp_path_factory.mktemp("recs")
    files = []
    for i in range(3):
        x, _ = weak_contraction(seed=40 + i, duration_s=4.0,
                                units=[(10.0, 800.0, 3), (8.0, 500.0, 2), (12.0, 350.0, 4)])
        p = folder / f"r{i}.bin"
        np.round(x * 5).astype("<i2").tofile(p)
        files.append(str(p))
    return files


RAW = ["--fs", "10000", "--gain", "5000"]


def _reference(path, classifier=False, n_controls=6):
    """A lab reference of biceps_brachii from synthetic control MUAP tables (no decomposition);
    with a lab classifier trained on synthetic labelled subjects when asked."""
    recs, muaps = _lab(n_controls=n_controls, recs_per=2, n_muaps=15)
    ref = build_lab_reference(muaps, recs, lab="syn")
    if classifier:
        lrecs, lmuaps = _labelled(seed=5)
        ref.classifier = clf.fit_classifier(_units(lrecs, lmuaps))
    ref.write(path)
    return path


# --------------------------------------------------------------------------- C1
def test_the_screen_shows_each_subject_muscles_reading_and_which_is_primary(
        tmp_path, recordings, capsys):
    ref = _reference(tmp_path / "ref.toml")
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *recordings, *RAW, "--muscle", "biceps_brachii",
                 "--reference", str(ref), "--subject", "A01", "--out", str(out),
                 "--no-figures"]) == 0
    printed = capsys.readouterr().out.splitlines()
    s = pd.read_csv(out / "subjects.csv")
    assert len(s) == 1
    r = s.iloc[0]
    # no classifier in the reference: the pooled MUAP means are the answer
    assert (r["primary_pattern"], r["primary_rule"]) == (r["pattern"], r["rule"])
    want = (f"subject A01, biceps_brachii (3 recording(s), {r['n_muaps']} MUAPs): primary "
            f"reading {r['pattern']} (MUAP means, rule {r['rule']}); MUAP means {r['pattern']} "
            f"(rule {r['rule']}); interference {r['ip_pattern']} (rule {r['ip_rule']})")
    assert want in printed, printed


def test_the_lab_classifier_is_primary_where_it_reads_the_muscle(tmp_path, recordings, capsys):
    ref = _reference(tmp_path / "ref.toml", classifier=True)
    many = tmp_path / "many.csv"
    pd.DataFrame({"file": ["r0.bin", "r1.bin", "r2.bin"], "subject": ["X", "X", "Y"],
                  "muscle": ["biceps_brachii", "biceps_brachii", "vastus_medialis"]}
                 ).to_csv(many, index=False)
    out = tmp_path / "out"
    assert _cli(["emg", "analyze", *recordings, *RAW, "--reference", str(ref), "--subjects",
                 str(many), "--out", str(out), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    s = pd.read_csv(out / "subjects.csv").set_index("subject")
    x, y = s.loc["X"], s.loc["Y"]
    assert x["clf_pattern"] in ("normal", "neurogenic", "myopathic")
    assert (x["primary_pattern"], x["primary_rule"]) == (x["clf_pattern"], "lab_classifier")
    assert (f"subject X, biceps_brachii (2 recording(s), {x['n_muaps']} MUAPs): primary reading "
            f"{x['clf_pattern']} (lab classifier); MUAP means {x['pattern']} (rule {x['rule']})"
            ) in printed
    # vastus medialis: neither the classifier nor the reference knows it; the MUAP reading
    # (indeterminate, no reference for the muscle) is the primary one, not a guess
    assert y["clf_pattern"] == "indeterminate"
    assert (y["primary_pattern"], y["primary_rule"]) == ("indeterminate", "no_reference_for_muscle")


def test_help_states_which_reading_is_primary():
    text = _help("emg", "analyze")
    assert "primary reading" in text and "lab classifier's class" in text
    assert "never the primary one" in text


# --------------------------------------------------------------------------- W7
def test_the_illustrative_reference_carries_its_caveat_on_screen_and_in_each_figure(
        tmp_path, recordings, capsys, monkeypatch):
    import matplotlib.figure

    from edxreview.signal._classify import ILLUSTRATIVE_CAVEAT

    titles = []
    save = matplotlib.figure.Figure.savefig

    def spy(fig, *a, **k):
        titles.append(fig._suptitle.get_text() if fig._suptitle is not None else "")
        return save(fig, *a, **k)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    assert _cli(["emg", "analyze", *recordings[:2], *RAW, "--muscle", "biceps_brachii",
                 "--reference", "illustrative", "--out", str(tmp_path / "o")]) == 0
    cap = capsys.readouterr()
    assert (cap.out + cap.err).count(ILLUSTRATIVE_CAVEAT) == 1   # once per run, not per file
    assert titles == [f"({ILLUSTRATIVE_CAVEAT})"] * 2
    # a lab reference: no caveat anywhere
    titles.clear()
    ref = _reference(tmp_path / "ref.toml")
    assert _cli(["emg", "analyze", recordings[0], *RAW, "--muscle", "biceps_brachii",
                 "--reference", str(ref), "--out", str(tmp_path / "o2")]) == 0
    cap = capsys.readouterr()
    assert ILLUSTRATIVE_CAVEAT not in cap.out + cap.err and titles == [""]
