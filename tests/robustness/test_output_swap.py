"""A failure at any step of writing an output folder leaves the file system as it was: the old
output in place and byte-identical, and nothing beside it (no hidden folder, no lock file, no
parent folder the command created)."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from edxreview import _output
from edxreview._output import OutputFolder

from .corpus import tree_state


def _listing(folder: Path) -> list[str]:
    """Every name under ``folder``, folders included (an empty one too)."""
    return sorted(str(Path(root, name).relative_to(folder))
                  for root, dirs, files in os.walk(folder) for name in dirs + files)


def _write(out: Path, files: dict[str, str], force: bool = False) -> None:
    with OutputFolder(out, force=force) as folder:
        for name, text in files.items():
            (folder.staging / name).parent.mkdir(parents=True, exist_ok=True)
            (folder.staging / name).write_text(text)
        folder.commit()


def _injected(step: str) -> OSError:
    return OSError(errno.EIO, f"injected failure: {step}")


def _fail_nth_call(monkeypatch, module, name: str, fail: set[int], step: str) -> list:
    """Make the ``fail``-th calls (1-based) of ``module.name`` raise, the others pass."""
    real, calls = getattr(module, name), []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) in fail:
            raise _injected(step)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)
    return calls


def _fail_backup_folder(monkeypatch, step):
    real = tempfile.mkdtemp

    def mkdtemp(*args, prefix=None, **kwargs):
        if prefix is not None and ".old." in prefix:
            raise _injected(step)
        return real(*args, prefix=prefix, **kwargs)

    monkeypatch.setattr(_output.tempfile, "mkdtemp", mkdtemp)


def _fail_manifest(monkeypatch, step):
    def dump(*args, **kwargs):
        raise _injected(step)

    monkeypatch.setattr(_output.json, "dump", dump)


# each step of the --force swap, and how to make it fail
STEPS = {
    "writing the manifest": _fail_manifest,
    "making the folder the old output is moved aside into": _fail_backup_folder,
    "moving the old output aside":
        lambda mp, step: _fail_nth_call(mp, _output.os, "replace", {1}, step),
    "moving the new output into place":
        lambda mp, step: _fail_nth_call(mp, _output.os, "replace", {2}, step),
}


@pytest.mark.parametrize("step", list(STEPS), ids=list(STEPS))
def test_a_failed_force_swap_leaves_the_old_output_as_it_was(step, tmp_path, monkeypatch):
    out = tmp_path / "parent" / "out"
    _write(out, {"a.txt": "old a", "sub/b.csv": "x,y\n1,2\n"})
    listing, state = _listing(tmp_path), tree_state(tmp_path)
    STEPS[step](monkeypatch, step)
    with pytest.raises(OSError, match="injected failure"):
        _write(out, {"a.txt": "new a", "c.txt": "new c"}, force=True)
    assert _listing(tmp_path) == listing       # nothing left beside --out, none lost
    assert tree_state(tmp_path) == state       # the old output's files byte-identical


@pytest.mark.parametrize("step", ["writing the manifest", "moving the new output into place"])
def test_a_failed_first_write_leaves_nothing(step, tmp_path, monkeypatch):
    """No old output: the parent folders the command created go too."""
    if step == "writing the manifest":
        _fail_manifest(monkeypatch, step)
    else:
        _fail_nth_call(monkeypatch, _output.os, "replace", {1}, step)
    with pytest.raises(OSError, match="injected failure"):
        _write(tmp_path / "a" / "b" / "out", {"a.txt": "new"})
    assert _listing(tmp_path) == []


def test_when_the_old_output_cannot_be_put_back_it_is_kept_and_named(tmp_path, monkeypatch):
    """The move into place fails, and so does the move back: the old output is never removed;
    the error says where it is."""
    out = tmp_path / "out"
    _write(out, {"a.txt": "old a"})
    before = (out / "a.txt").read_bytes()
    calls = _fail_nth_call(monkeypatch, _output.os, "replace", {2, 3}, "both moves")
    with pytest.raises(OSError, match="injected failure") as caught:
        _write(out, {"a.txt": "new a"}, force=True)
    backup = Path(calls[0][1])
    assert backup.name.startswith(".out.old.")
    assert (backup / "a.txt").read_bytes() == before
    note = " ".join(getattr(caught.value, "__notes__", []))
    assert repr(str(backup)) in note and "move it back" in note
    assert sorted(p.name for p in tmp_path.iterdir()) == [backup.name]


def test_a_successful_force_swap_leaves_nothing_beside_the_output(tmp_path):
    out = tmp_path / "out"
    _write(out, {"a.txt": "old a", "sub/b.csv": "1\n"})
    _write(out, {"a.txt": "new a"}, force=True)
    assert _listing(tmp_path) == ["out", f"out/{_output.MARKER}", "out/a.txt"]
    assert (out / "a.txt").read_text() == "new a"


def test_an_old_output_that_cannot_be_removed_is_named(tmp_path, monkeypatch, caplog):
    """The new output is in place; what is left of the old one is named, not hidden."""
    out = tmp_path / "out"
    _write(out, {"a.txt": "old a"})
    monkeypatch.setattr(_output.shutil, "rmtree", lambda path, ignore_errors=False: None)
    with caplog.at_level(logging.WARNING, logger="edxreview._output"):
        _write(out, {"a.txt": "new a"}, force=True)
    monkeypatch.setattr(_output.shutil, "rmtree", shutil.rmtree)
    assert (out / "a.txt").read_text() == "new a"
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.old.")]
    assert len(left) == 1 and left[0] in caplog.text and "remove" in caplog.text


def test_a_file_system_without_locks_leaves_no_lock_file_or_parent_folder(tmp_path, monkeypatch):
    """flock refused for want of locks (not because another command holds it): the lock file
    this command created and the parent folders it made are removed."""
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "injected failure: no locks available")

    monkeypatch.setattr(_output.fcntl, "flock", no_locks)
    with pytest.raises(OSError, match="injected failure"):
        _write(tmp_path / "a" / "b" / "out", {"a.txt": "new"})
    assert _listing(tmp_path) == []


def test_a_lock_file_left_by_an_earlier_command_is_not_removed_on_such_a_failure(
        tmp_path, monkeypatch):
    lock = tmp_path / f".out{_output._LOCK_SUFFIX}"
    lock.write_text("123\n")

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "injected failure: no locks available")

    monkeypatch.setattr(_output.fcntl, "flock", no_locks)
    with pytest.raises(OSError, match="injected failure"):
        _write(tmp_path / "out", {"a.txt": "new"})
    assert _listing(tmp_path) == [lock.name] and lock.read_text() == "123\n"


@pytest.mark.parametrize("how", ["write_whole", "write_all_whole"])
def test_a_failed_file_write_removes_the_folders_it_created(how, tmp_path):
    path = tmp_path / "a" / "b" / "x.csv"

    def failing(tmp: Path) -> None:
        tmp.write_text("half")
        raise _injected("writing the file")

    with pytest.raises(OSError, match="injected failure"):
        if how == "write_whole":
            _output.write_whole(path, failing)
        else:
            _output.write_all_whole({tmp_path / "a" / "ok.csv": lambda t: t.write_text("ok"),
                                     path: failing})
    assert _listing(tmp_path) == []


def test_write_all_whole_keeps_a_previous_file_it_cannot_put_back(tmp_path, monkeypatch):
    """The second move fails, and so does putting the first file back: the first file's
    previous content is kept (in the hidden folder beside it) and named, never removed."""
    first, second = tmp_path / "a.csv", tmp_path / "b.toml"
    first.write_text("old a\n")
    real = os.replace

    def failing(src, dst):
        if Path(dst) == second or Path(src).name == ".a.csv.old":
            raise _injected(f"moving {src} to {dst}")
        return real(src, dst)

    monkeypatch.setattr(_output.os, "replace", failing)
    monkeypatch.setattr(_output.os, "link", lambda *a, **k: (_ for _ in ()).throw(
        _injected("no hard links")))
    with pytest.raises(OSError, match="injected failure") as caught:
        _output.write_all_whole({first: lambda p: p.write_text("new a\n"),
                                 second: lambda p: p.write_text("new b\n")})
    kept = list(tmp_path.glob(".a.csv.*/.a.csv.old"))
    assert len(kept) == 1 and kept[0].read_text() == "old a\n"
    assert repr(str(kept[0])) in " ".join(caught.value.__notes__)


def test_write_all_whole_names_a_new_file_it_cannot_remove_again(tmp_path, monkeypatch):
    """The second move fails, and so does removing the first file, which had no previous file:
    the new file is left in place, and the error says so, naming it (all or none is broken,
    never silently)."""
    first, second = tmp_path / "a.csv", tmp_path / "b.toml"
    second.write_text("old b\n")
    real = os.replace

    def failing(src, dst):
        if Path(dst) == second and Path(src).name == second.name:
            raise _injected(f"moving {src} to {dst}")
        return real(src, dst)

    def no_unlink(path, *args, **kwargs):
        raise _injected(f"removing {path}")

    monkeypatch.setattr(_output.os, "replace", failing)
    monkeypatch.setattr(_output.os, "unlink", no_unlink)
    with pytest.raises(OSError, match="injected failure") as caught:
        _output.write_all_whole({first: lambda p: p.write_text("new a\n"),
                                 second: lambda p: p.write_text("new b\n")})
    assert first.read_text() == "new a\n" and second.read_text() == "old b\n"
    notes = " ".join(getattr(caught.value, "__notes__", []))
    assert repr(str(first)) in notes and "could not be removed" in notes, notes
