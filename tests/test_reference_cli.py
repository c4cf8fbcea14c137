"""``edxreview reference`` and ``run --reference``: one validation, located errors, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from edxreview.cli import main
from edxreview.knowledge import load_reference

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "edxreview" / "knowledge" / "data" / "ncs_limits_adult.csv"


def test_summary_counts_every_status(capsys):
    assert main(["reference", "--summary"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "ncs_limits_adult" in line)
    numbers = [int(x) for x in row.replace("│", " ").split() if x.isdigit()]
    table = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    expect = table["status"].value_counts()
    assert numbers[:4] == [int(expect.get(s, 0)) for s in
                           ("verified", "corrected", "unsourced", "convention")]
    assert numbers[-1] == len(table)
    assert "vertebra_segments" in out


def test_summary_last_line_counts_every_status_table(tmp_path, capsys):
    """The closing line counts unsourced rows over every table with a row status, and over the
    active limits when a laboratory file replaces the bundled ones."""
    import re

    data = BUNDLED.parent
    tables = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(data.glob("*.csv"))]
    tables = [t for t in tables if "status" in t]
    assert main(["reference", "--summary"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.startswith("Unsourced and not a named convention"))
    total, rows, n_tables = map(int, re.search(r": (\d+) of (\d+) rows in the (\d+) tables",
                                               line).groups())
    assert n_tables == len(tables) >= 7
    assert rows == sum(len(t) for t in tables)
    assert total == sum(int(t["status"].eq("unsourced").sum()) for t in tables) == 0

    lab = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    lab.loc[0, "status"] = "unsourced"
    path = tmp_path / "lab.csv"
    lab.to_csv(path, index=False)
    assert main(["reference", "--summary", "--reference", str(path)]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines()
                if ln.startswith("Unsourced and not a named convention"))
    assert line.startswith("Unsourced and not a named convention: 1 of ")
    assert "(ncs_limits_adult 1)" in line and line.endswith(f": 1 of {len(lab)}.")


def test_show_prints_limits_with_status_and_source(capsys):
    assert main(["reference"]) == 0
    out = capsys.readouterr().out
    assert "johnson2007_table9_1" in out and "Table 9-1" in out
    assert "corrected" in out and "convention" in out


def test_check_a_bad_file_lists_every_problem(tmp_path, capsys):
    table = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    table.loc[0, "limit"] = "-1"
    table.loc[3, "nerve"] = "ulner"
    path = tmp_path / "lab.csv"
    table.to_csv(path, index=False)
    assert main(["reference", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "row 2, column 'limit': value '-1'" in err
    assert "row 5, column 'nerve': value 'ulner'" in err and "Did you mean 'ulnar'" in err
    assert main(["reference", "--check", str(path)]) == 1


def test_check_usage_errors(capsys):
    assert main(["reference", "check"]) == 2
    with pytest.raises(SystemExit) as exc:  # argparse: not 'show' or 'check'
        main(["reference", "lab.csv"])
    assert exc.value.code == 2


def test_starter_round_trip(tmp_path, capsys):
    target = tmp_path / "ours.csv"
    assert main(["reference", "--starter", str(target)]) == 0
    assert (tmp_path / "ours.meta.toml").is_file()
    capsys.readouterr()
    assert main(["reference", "check", str(target)]) == 0
    n_bundled = len(load_reference().limits)
    assert f"{n_bundled} limit rows" in capsys.readouterr().out.replace("\n", " ")
    assert main(["reference", "--starter", str(target)]) == 2       # never overwrites silently
    assert main(["reference", "--starter", str(target), "--force"]) == 0
    assert main(["reference", "--summary", "--reference", str(target)]) == 0


def test_run_refuses_a_bad_reference_and_writes_nothing(tmp_path, capsys):
    from edxreview._pipeline import demo_path

    table = pd.read_csv(BUNDLED, dtype=str, keep_default_na=False)
    table.loc[0, "age_min_years"], table.loc[0, "age_max_years"] = "70", "20"
    path = tmp_path / "lab.csv"
    table.to_csv(path, index=False)
    out = tmp_path / "out"
    code = main(["run", str(demo_path()), "--reference", str(path), "--out", str(out), "-q"])
    assert code == 1 and not out.exists()
    err = capsys.readouterr().err
    assert "row 2, column 'age_min_years'" in err and "internal error" not in err


@pytest.mark.slow
def test_run_with_a_bare_copy_of_the_bundled_limits(tmp_path, capsys):
    """No sidecar: the lab's own table; same results as the bundled set."""
    from edxreview._pipeline import demo_path

    path = tmp_path / "copy.csv"
    shutil.copy(BUNDLED, path)
    out = tmp_path / "out"
    assert main(["run", str(demo_path()), "--reference", str(path), "--out", str(out),
                 "-q"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [m["n"] for m in summary["measures"].values()] == [13, 7, 4, 2, 9, 4]
    assert "copy" in (out / "report.html").read_text(encoding="utf-8")


def test_starter_force_never_replaces_edited_limits(tmp_path, capsys):
    """--force replaces an unedited starter only: a laboratory's edited limits are kept."""
    target = tmp_path / "lab.csv"
    assert main(["reference", "--starter", str(target)]) == 0
    meta = tmp_path / "lab.meta.toml"
    for edited in (target, meta):
        original = edited.read_bytes()
        edited.write_bytes(original.replace(b"1.0.0", b"1.0.1") if edited == meta
                           else original + b"median,edited\n")
        before = {p: p.read_bytes() for p in (target, meta)}
        capsys.readouterr()
        assert main(["reference", "--starter", str(target), "--force"]) == 2
        err = " ".join(capsys.readouterr().err.split())
        assert repr(str(edited)).replace(" ", "") in err.replace(" ", "")
        assert "never a laboratory's own limits" in err and "Traceback" not in err
        assert {p: p.read_bytes() for p in (target, meta)} == before
        edited.write_bytes(original)
    assert main(["reference", "--starter", str(target), "--force"]) == 0


def test_starter_writes_both_files_or_neither(tmp_path, capsys):
    """A sidecar path that is a folder is found before the limits file is written."""
    (tmp_path / "e.meta.toml").mkdir()
    assert main(["reference", "--starter", str(tmp_path / "e.csv"), "--force"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{str(tmp_path / 'e.meta.toml')!r} is a folder; the starter sidecar is a file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.meta.toml"]


def test_starter_replaces_a_link_only_with_force_and_keeps_its_target(tmp_path, capsys):
    """A link at the starter's path is refused without --force; with it the link is replaced,
    never written through: what it leads to is kept."""
    kept = tmp_path / "kept.csv"
    kept.write_bytes(b"a laboratory's own limits\n")
    link = tmp_path / "s.csv"
    link.symlink_to(kept)
    assert main(["reference", "--starter", str(link)]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{str(link)!r} exists, a symbolic link (to {str(kept)!r}); pass --force" in err
    assert link.is_symlink() and not (tmp_path / "s.meta.toml").exists()
    assert main(["reference", "--starter", str(link), "--force"]) == 0
    assert not link.is_symlink() and (tmp_path / "s.meta.toml").is_file()
    assert kept.read_bytes() == b"a laboratory's own limits\n"


def test_write_all_whole_puts_back_what_it_moved_when_a_move_fails(tmp_path, monkeypatch):
    import os

    from edxreview import _output

    first, second = tmp_path / "a.csv", tmp_path / "b.toml"
    first.write_text("old a\n")
    real = os.replace

    def failing(src, dst):
        if Path(dst) == second:
            raise OSError(28, "No space left on device", str(dst))
        return real(src, dst)

    monkeypatch.setattr(_output.os, "replace", failing)
    with pytest.raises(OSError):
        _output.write_all_whole({first: lambda p: p.write_text("new a\n"),
                                 second: lambda p: p.write_text("new b\n")})
    assert first.read_text() == "old a\n" and not second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
