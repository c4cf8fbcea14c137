"""The one writer of output folders, shared by every command that writes one.

An output folder is

* **guarded**: it may not be, contain or lie inside any input (symbolic links resolved, and the
  same file recognised by device and inode, so a case-insensitive file system or a link does
  not hide it);
* **locked**: an OS lock (``flock``) on a lock file beside it, held from the start of the
  command to its end, so a second command writing to the same folder stops at once with a clear
  error instead of overwriting the first;
* **atomic**: files are written into a hidden temporary folder beside it and moved into place
  only when all are complete; an error, Ctrl-C, ``SIGTERM`` or ``SIGHUP`` removes the temporary
  folder, the lock file and any parent folders the command created; a failed swap with an old
  folder (``--force``) puts the old folder back (:func:`_swap`), leaving nothing beside it;
* **marked**: every folder edxreview writes holds a manifest, ``.edxreview-output.json``, listing
  the files written with the size and SHA-256 of each as written. ``--force`` replaces only
  such a folder, and only while it holds no file the manifest does not list and no listed file
  changed since (another size or hash: a report or workbook the user opened and edited there is
  theirs): edxreview never deletes anything it did not write itself. A manifest of an earlier
  version (names only, no hashes) is checked by name only.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal

from ._errors import OutputExistsError, OutputPathError

logger = logging.getLogger(__name__)

#: the manifest every output folder holds
MARKER = ".edxreview-output.json"
#: the manifest's key for each file's size and SHA-256 as written (absent from the manifests of
#: earlier versions, which list names only)
_CHECKSUMS = "checksums"
_HASH_CHUNK = 1 << 20
_LOCK_SUFFIX = ".edxreview-lock"
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                 if hasattr(signal, name))

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, the rest still holds
    fcntl = None  # type: ignore[assignment]


#: the lock files' descriptors this process holds open (see :meth:`OutputFolder._lock`)
_HELD_LOCKS: set[int] = set()


def _close_locks_in_child() -> None:
    """A forked copy of this process (the results workbook's writer) closes its copies of the
    lock descriptors: a copy would keep the lock held after its parent is killed, and a rerun
    would be refused naming the dead parent. The parent's lock is not affected."""
    for fd in list(_HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_close_locks_in_child)


class Terminated(KeyboardInterrupt):
    """``SIGTERM`` or ``SIGHUP`` arrived; raised so that clean-up runs as for Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(f"terminated by signal {signum}")
        self.signum = signum


def _raise_terminated(signum, frame) -> None:
    raise Terminated(signum)


def _real(path: Path) -> Path:
    """Where ``path`` leads, as the system will follow it: links first, then ``..``.
    (``abspath`` would drop ``link/..`` as text before the link is followed, so the check would
    look at one folder while the write lands in another.) realpath never raises (a symlink loop
    stays as written); Path.resolve may."""
    return Path(os.path.realpath(path))


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _identity_of(fd: int) -> tuple[int, int] | None:
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _chain(path: Path) -> list[Path]:
    """``path`` and its ancestors, nearest first."""
    return [path, *path.parents]


def _links_under(folder: Path) -> Iterator[Path]:
    """Every symbolic link under ``folder`` (and under the folders those links lead to, each
    once): a folder read as input reads the files its links point to, wherever they are."""
    pending, seen = [folder], set()
    while pending:
        top = pending.pop()
        real = os.path.realpath(top)
        if real in seen:
            continue
        seen.add(real)
        for root, dirs, files in os.walk(top, followlinks=False):
            for name in files + dirs:
                path = Path(root, name)
                if os.path.islink(path):
                    yield path
                    if os.path.isdir(path):
                        pending.append(path)


def _expand_inputs(inputs: Iterable[str | Path | None]) -> list[tuple[str, Path]]:
    """Every path an output must not overlap, as ``(the input in words, its path)``: each
    input as given (``None`` and empty entries skipped), and for a folder input every link
    under it (a study folder whose sheets are links to files elsewhere reads those files).
    This walks the folder inputs: a command computes it once and checks each of its output
    paths against it (:func:`_overlap`)."""
    expanded: list[tuple[str, Path]] = []
    for given in inputs:
        if given is None or str(given) == "":
            continue
        expanded.append((repr(str(given)), Path(given)))
        if os.path.isdir(given):
            expanded += [(f"{str(link)!r} (a link to {os.readlink(link)!r})", link)
                         for link in _links_under(Path(given))]
    return expanded


def _overlap(target: Path, expanded: list[tuple[str, Path]]) -> tuple[str, str] | None:
    """The first input ``target`` (links resolved) overlaps, as ``(the input in words: its
    path as given, quoted, relation)``
    (``"is the input"``, ``"contains the input"`` or ``"lies inside the input"``), else None.
    ``expanded`` is the inputs with the links under the folder inputs
    (:func:`_expand_inputs`)."""
    target_ids = [_identity(p) for p in _chain(target)]
    for given, path in expanded:
        source = _real(path)
        source_ids = [_identity(p) for p in _chain(source)]
        if target == source or (target_ids[0] is not None and target_ids[0] == source_ids[0]):
            return given, "is the input"
        if target in source.parents or (
                target_ids[0] is not None and target_ids[0] in source_ids[1:]):
            return given, "contains the input"
        if source in target.parents or (
                source_ids[0] is not None and source_ids[0] in target_ids[1:]):
            return given, "lies inside the input"
    return None


def check_output_path(out: str | Path, inputs: Iterable[str | Path | None],
                      kind: Literal["folder", "file"] = "folder") -> Path:
    """Refuse an output path that is, contains or lies inside an input.

    Paths are compared after resolving symbolic links, and again by device and inode (which
    also catches a case-insensitive file system, hard links and bind mounts).

    Parameters
    ----------
    out : str or Path
        The output folder (or file) as the user gave it.
    inputs : iterable of str, Path or None
        Every file or folder the command reads (``None`` entries are skipped): for a signal
        recording, every file of it (:func:`edxreview.signal._readers.recording_files`).
    kind : {"folder", "file"}
        What the command writes at ``out``; it words the message.

    Returns
    -------
    Path
        ``out`` with symbolic links resolved.

    Raises
    ------
    OutputPathError
        ``out`` overlaps an input.
    """
    return _refuse_overlap(out, _expand_inputs(inputs), kind)


def _refuse_overlap(out: str | Path, expanded: list[tuple[str, Path]],
                    kind: Literal["folder", "file"] = "folder", out_name: str = "--out") -> Path:
    """:func:`check_output_path` against inputs already expanded (:func:`_expand_inputs`);
    ``out_name`` is how the message names the output folder's argument."""
    target = _real(Path(out))
    found = _overlap(target, expanded)
    if found is not None:
        given, relation = found
        if kind == "file":
            raise OutputPathError(
                f"output file {str(out)!r} {relation} {given}; edxreview never writes over "
                "its input: choose another file name")
        raise OutputPathError(
            f"output folder {str(out)!r} {relation} {given}; edxreview never writes "
            f"into, over or around its input: choose an {out_name} outside it, e.g. a new "
            "folder beside it")
    return target


def _make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and the missing folders above it; the folders created, outermost
    first. Should one fail, those created before it are removed again."""
    missing = [p for p in _chain(folder) if not p.exists()]
    created: list[Path] = []
    try:
        for p in reversed(missing):
            p.mkdir()
            created.append(p)
    except BaseException:
        _remove_folders(created)
        raise
    return created


def _remove_folders(created: list[Path]) -> None:
    """Remove the folders :func:`_make_folders` created, innermost first, each only while it
    is empty (what is in it is never removed)."""
    for p in reversed(created):
        with contextlib.suppress(OSError):
            p.rmdir()


def replaceable_without_reading(path: Path, force: bool, force_name: str, noun: str,
                                choose: str, prefix: str = "") -> bool:
    """The checks every one-file writer makes before it looks at what an existing file holds:
    True when nothing is there, or a link is there and ``force`` (the link is replaced, what it
    leads to is kept); False when a plain file is there whose content the caller must judge.

    Raises
    ------
    OutputPathError
        ``path`` is a folder, or neither a file nor a link (a pipe, a device, a socket: reading
        it could wait for ever, and it is nothing edxreview wrote); ``noun``, e.g. "the
        template", is a file; ``choose`` says what to do instead.
    OutputExistsError
        ``path`` is a link and ``force`` is false (``prefix`` starts the message).
    """
    if not os.path.lexists(path):
        return True
    shown = repr(str(path))
    if path.is_symlink():     # replaced, never written through: what it leads to is kept
        if force:
            return True
        raise OutputExistsError(f"{prefix}{shown} exists, a symbolic link (to "
                                f"{os.readlink(path)!r}); pass {force_name} to replace the link "
                                "(what it leads to is kept)")
    if path.is_dir():
        raise OutputPathError(f"{shown} is a folder; {noun} is a file and never replaces a "
                              f"folder, even with {force_name}: {choose}")
    if not path.is_file():
        raise OutputPathError(f"{shown} is not a plain file (a pipe, a device or a socket); "
                              f"{noun} is a file and never replaces one, even with "
                              f"{force_name}: {choose}")
    return False


def write_whole(path: str | Path, write: Callable[[Path], object]) -> Path:
    """One output file written whole or not at all: ``write(tmp)`` writes it into a new hidden
    folder beside ``path``, and it is then moved into place. A failure leaves neither a
    half-written file nor a truncated old one; a link at ``path`` is replaced, never written
    through; the file gets the permissions any new file gets. The folders it creates for
    ``path`` are removed again should it fail."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():   # named as the user gave it, not the tmp file
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    created = _make_folders(path.parent)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            write(tmp / path.name)
            os.replace(tmp / path.name, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        _remove_folders(created)
        raise
    return path


def write_all_whole(writes: dict[Path, Callable[[Path], object]]) -> list[Path]:
    """Several output files written whole, all of them or none: each ``write(tmp)`` writes its
    file into a new hidden folder beside it; only when every one is complete are they moved into
    place, and should a move fail the files moved before it are put back as they were (a file
    that was not there is removed, and so are the folders created for them). A link at a path
    is replaced, never written through. Should putting a file back fail too, the error's notes
    name what is left: a previous file kept in its hidden folder, a new file left in place.

    Raises
    ------
    IsADirectoryError
        A path is a folder (named as given); checked before anything is written.
    """
    paths = [Path(p) for p in writes]
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    created: list[Path] = []
    tmps: list[Path] = []
    kept: set[Path] = set()     # tmps holding a previous file that could not be put back
    moved: list[tuple[Path, Path | None]] = []   # (path, its previous file, kept in the tmp)
    try:
        try:
            for path, write in zip(paths, writes.values()):
                created += _make_folders(path.parent)
                tmps.append(Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)))
                write(tmps[-1] / path.name)
            with _signals_deferred():
                try:
                    for path, tmp in zip(paths, tmps):
                        old = None
                        if os.path.lexists(path):
                            # keep the previous file for the rollback as a second name (the
                            # path is never missing); where hard links are not possible, move
                            # it aside
                            old = tmp / f".{path.name}.old"
                            try:
                                os.link(path, old, follow_symlinks=False)
                            except OSError:
                                os.replace(path, old)
                        moved.append((path, old))
                        os.replace(tmp / path.name, path)
                except BaseException as exc:
                    for path, old in reversed(moved):
                        try:
                            if old is not None:
                                os.replace(old, path)
                            elif os.path.lexists(path):
                                os.unlink(path)
                        except OSError as undo:
                            if old is not None:   # never removed: kept, and named
                                kept.add(old.parent)
                                exc.add_note(
                                    f"the previous {str(path)!r} could not be put back "
                                    f"({undo}); it is kept in {str(old)!r}: move it back")
                            else:   # the new file stays where there was none: named
                                exc.add_note(
                                    f"the new {str(path)!r}, where there was no file before, "
                                    f"could not be removed again ({undo}); it is left in "
                                    "place, the other files as they were: remove it")
                    raise
        finally:
            for tmp in tmps:
                if tmp not in kept:
                    shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        _remove_folders(created)
        raise
    return paths


def read_manifest(folder: Path) -> dict | None:
    """The manifest of an output folder, or ``None`` when it has none (or an unreadable one)."""
    try:
        with open(folder / MARKER, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("written_by") != "edxreview" or \
            not isinstance(manifest.get("files"), list) or \
            not all(isinstance(name, str) for name in manifest["files"]) or \
            not isinstance(manifest.get(_CHECKSUMS, {}), dict):
        return None
    return manifest


def _checksum(path: Path) -> dict:
    """What the manifest records of one listed path, read without following a link: a file's
    ``{"size", "sha256"}``, a link's ``{"link": its target}``, else ``{"kind": "other"}``."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return {"link": os.readlink(path)}
    if not stat.S_ISREG(st.st_mode):
        return {"kind": "other"}
    digest = hashlib.sha256()
    # never through a link put there since the lstat
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb", buffering=0) as fh:
        buffer = bytearray(_HASH_CHUNK)
        view = memoryview(buffer)
        while n := fh.readinto(buffer):
            digest.update(view[:n])
    return {"size": st.st_size, "sha256": digest.hexdigest()}


def _checksums(folder: Path, names: list[str]) -> dict[str, dict]:
    """:func:`_checksum` of each of ``names`` under ``folder``, read back once every file is
    written (from the page cache: a small share of the time writing them took)."""
    return {name: _checksum(folder / name) for name in names}


def _listing(folder: Path) -> list[str]:
    """Every file (and link) under ``folder``, as sorted relative POSIX paths; links not followed."""
    names = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        names.extend((rel / f).as_posix() for f in files)
        names.extend((rel / d).as_posix() for d in dirs if os.path.islink(os.path.join(root, d)))
    return sorted(names)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C, ``SIGTERM`` and ``SIGHUP`` back while the folders are swapped; deliver
    them afterwards, so a signal never leaves the output half-replaced."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    for s in _SIGNALS:
        signal.signal(s, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        for s in dict.fromkeys(pending):
            signal.raise_signal(s)


def _swap(new: Path, target: Path) -> None:
    """Put the folder ``new`` in place of the folder ``target``, removing the old one.

    The old folder is first moved aside into a hidden folder beside it, then ``new`` is moved
    into place, then the old folder is removed. Should a step fail, what the earlier steps did
    is undone: the old folder is back at ``target`` and no hidden folder is left beside it. In
    the one case where it cannot be put back (the move back fails too), it is kept, never
    removed, and the error names where it is.
    """
    backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    try:
        os.replace(target, backup)
    except BaseException:
        with contextlib.suppress(OSError):
            backup.rmdir()          # still the empty folder mkdtemp made
        raise
    try:
        os.replace(new, target)
    except BaseException as exc:
        try:
            os.replace(backup, target)
        except OSError as undo:
            exc.add_note(f"the previous output folder could not be put back ({undo}); it is "
                         f"kept, whole, in {str(backup)!r}: move it back to {str(target)!r}")
        raise
    shutil.rmtree(backup, ignore_errors=True)
    if os.path.lexists(backup):
        logger.warning("the previous output folder, moved aside into %r, could not be removed "
                       "completely; the new output is in place: remove %r yourself",
                       str(backup), str(backup))


class OutputFolder:
    """Write an output folder: guarded, locked, atomic and marked (see the module docstring).

    Use as a context manager around the whole command, so that the lock is held from the first
    check to the last file::

        with OutputFolder(out, force=force, inputs=[workbook], command="run") as output:
            ...                                   # read and compute
            write_files(output.staging)           # a hidden folder beside ``out``
            output.commit()                       # manifest, then moved into place

    Leaving the block without :meth:`commit` (an error, Ctrl-C, ``SIGTERM``) removes the
    temporary folder, the lock file and any parent folder created on the way.

    Parameters
    ----------
    path : str or Path
        The output folder as given.
    force : bool
        Replace an existing non-empty folder, if edxreview wrote it (its manifest lists every
        file in it, each unchanged since: the size and SHA-256 it records).
    inputs : iterable of paths
        Every file or folder the command reads; the output may not overlap any of them.
    command : str
        Recorded in the manifest.
    spelled : (str, str)
        How the messages name the folder's argument and ``force``: ``("--out", "--force")``
        for a command, the parameters (``("out", "force=True")``) for a Python function.

    Raises
    ------
    OutputPathError
        On entering: the path overlaps an input, is a file, holds files edxreview did not
        write or listed files changed since it wrote them (with ``force``), or another
        edxreview process is writing it.
    OutputExistsError
        On entering (and again on committing): the folder exists, is not empty and ``force``
        is false.
    """

    def __init__(self, path: str | Path, *, force: bool = False,
                 inputs: Iterable[str | Path | None] = (), command: str = "run",
                 spelled: tuple[str, str] = ("--out", "--force")):
        self.path = Path(path)
        self.out_name, self.force_name = spelled
        self.force = force
        self.inputs = list(inputs)
        self.command = command
        self.target = self.path
        self.committed = False
        self._staging: Path | None = None
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None
        self._created: list[Path] = []
        self._previous_handlers: dict[int, object] = {}
        # the inputs with the links under the folder inputs: walked once, on entering, and
        # shared by the checks of the folder and of its lock file
        self._expanded: list[tuple[str, Path]] | None = None
        # what the listed files of the folder to replace were found to be, by their state on
        # disk (see _changed): each is hashed once, not at each of the checks
        self._seen: dict[tuple, str] = {}

    # -- checks ---------------------------------------------------------------------------
    def _check_target(self) -> None:
        """Refuse a target that is a file, or a non-empty folder that may not be replaced."""
        target, shown = self.target, str(self.path)
        out, force = self.out_name, self.force_name
        if not os.path.lexists(target):
            return
        if not target.is_dir():
            raise OutputPathError(
                f"output folder {shown!r} is a file, not a folder; edxreview writes a folder "
                f"and never replaces a file, even with {force}: choose another {out}")
        if not any(target.iterdir()):
            return
        manifest = read_manifest(target)
        if manifest is None:
            raise (OutputPathError if self.force else OutputExistsError)(
                f"output folder {shown!r} is not empty and was not written by edxreview (it has "
                f"no {MARKER}); {force} replaces only a folder edxreview wrote, so that it "
                f"never deletes anything else: choose another {out}, or empty the folder "
                "yourself")
        if not self.force:
            raise OutputExistsError(
                f"output folder {shown!r} exists and is not empty; choose another {out} or "
                f"pass {force} to replace it")
        listing = _listing(target)
        foreign = sorted(set(listing) - set(manifest["files"]) - {MARKER})
        changed = self._changed(target, manifest, [n for n in listing if n != MARKER])
        if foreign or changed:
            def named(names: list[str]) -> str:
                more = f" and {len(names) - 5} more" if len(names) > 5 else ""
                return ", ".join(repr(n) for n in names[:5]) + more

            holds = []
            if foreign:
                holds.append(f"{len(foreign)} file(s) edxreview did not write ({named(foreign)})")
            if changed:
                holds.append(f"{len(changed)} file(s) changed since edxreview wrote them "
                             f"({named(changed)}; another size or content than the manifest "
                             "records)")
            raise OutputPathError(
                f"output folder {shown!r} holds {' and '.join(holds)}; {force} replaces only "
                "edxreview's own files as it wrote them, so that it never deletes anything "
                f"else: move them away or choose another {out}")

    def _changed(self, target: Path, manifest: dict, names: list[str]) -> list[str]:
        """The listed files among ``names`` that differ from what the manifest records of them
        (size, SHA-256; a link's target), sorted. A manifest without checksums (an earlier
        version's) lists names only: nothing is found changed. A listed file the manifest
        records nothing of counts as changed. A file is hashed once per command while it is
        unchanged on disk (same size, modification and change times, inode)."""
        if _CHECKSUMS not in manifest:
            return []
        recorded = manifest[_CHECKSUMS]
        listed = set(manifest["files"])
        changed = []
        for name in names:
            if name not in listed:
                continue
            try:
                st = os.lstat(target / name)
            except OSError:     # gone since the listing: nothing of it to delete
                continue
            key = (name, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
            found = self._seen.get(key)
            if found is None:
                want = recorded.get(name)
                if not isinstance(want, dict):
                    found = "changed"
                elif "size" in want and st.st_size != want["size"]:
                    found = "changed"   # no need to read it
                else:
                    try:
                        found = "same" if _checksum(target / name) == want else "changed"
                    except OSError:
                        found = "changed"
                self._seen[key] = found
            if found == "changed":
                changed.append(name)
        return sorted(changed)

    # -- lock -----------------------------------------------------------------------------
    def _lock_file(self) -> Path:
        return self.target.parent / f".{self.target.name}{_LOCK_SUFFIX}"

    def _check_lock_file(self) -> None:
        """Refuse a lock file path that is an input or a symbolic link: the lock file is
        truncated, written and removed, and a link would carry that to the file it points to."""
        path = self._lock_file()
        found = _overlap(_real(path), self._expanded)   # set on entering
        if found is None and not os.path.islink(path):
            return
        what = (f"is the input {found[0]}" if found is not None else
                f"is a symbolic link (to {os.readlink(path)!r})")
        raise OutputPathError(
            f"the lock file edxreview keeps beside output folder {str(self.path)!r}, "
            f"{str(path)!r}, {what}; edxreview never writes over its input or through a link: "
            f"remove it if nothing needs it, or choose another {self.out_name}")

    def _lock(self) -> None:
        if fcntl is None:  # pragma: no cover
            return
        path = self._lock_file()
        # never through a link: it would truncate the file it points to
        flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0)
        while True:
            try:
                try:    # created here, or there already (another command's, or left over)
                    fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
                    created = True
                except FileExistsError:
                    fd = os.open(path, flags)
                    created = False
            except FileNotFoundError:   # removed by its holder in between: try again
                continue
            except OSError as exc:
                if exc.errno != errno.ELOOP:
                    raise
                self._check_lock_file()   # a link put there since the first check
                raise
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = ""
                with contextlib.suppress(OSError, ValueError):
                    pid = int(os.pread(fd, 32, 0).decode("ascii").strip() or "0")
                    holder = f" (process {pid})" if pid else ""
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    # no lock to be had here (a file system without locks): the lock file
                    # this command created goes, so that nothing is left beside --out
                    if created and _identity(path) == _identity_of(fd):
                        with contextlib.suppress(OSError):
                            os.unlink(path)
                    os.close(fd)
                    raise
                os.close(fd)
                raise OutputPathError(
                    f"output folder {str(self.path)!r} is being written by another edxreview "
                    f"command{holder}; wait for it to finish or choose another "
                    f"{self.out_name}") from None
            # the lock file may have been removed by its previous holder in between: lock the
            # file that is at the path now
            st = os.fstat(fd)
            if st.st_nlink > 1 or not stat.S_ISREG(st.st_mode):
                # a hard link (or anything but a file of its own) at the lock file's name:
                # truncating it would truncate the file it shares its data with
                os.close(fd)
                raise OutputPathError(
                    f"the lock file beside the output folder, {str(path)!r}, is a hard link to "
                    "another file (or not a plain file); edxreview writes its process id there "
                    f"and would overwrite that file: remove it, or choose another "
                    f"{self.out_name}")
            if _identity(path) == (st.st_dev, st.st_ino):
                break
            os.close(fd)
        self._lock_fd, self._lock_path = fd, path
        _HELD_LOCKS.add(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self._lock_path)  # type: ignore[arg-type]
        _HELD_LOCKS.discard(self._lock_fd)
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- context --------------------------------------------------------------------------
    def __enter__(self) -> "OutputFolder":
        self._expanded = _expand_inputs(self.inputs)
        self.target = _refuse_overlap(self.path, self._expanded, out_name=self.out_name)
        self._check_target()
        self._check_lock_file()
        self._trap_termination()
        try:
            self._created = _make_folders(self.target.parent)
            self._lock()
            self._check_target()  # again, now that no other edxreview command can change it
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._release()

    def _trap_termination(self) -> None:
        """While the folder is held, ``SIGTERM``/``SIGHUP`` raise :class:`Terminated` (where they
        would otherwise kill the process without clean-up)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for name in ("SIGTERM", "SIGHUP"):
            s = getattr(signal, name, None)
            if s is not None and signal.getsignal(s) is signal.SIG_DFL:
                self._previous_handlers[s] = signal.SIG_DFL
                signal.signal(s, _raise_terminated)

    def _release(self) -> None:
        try:
            if self._staging is not None and not self.committed:
                shutil.rmtree(self._staging, ignore_errors=True)
                self._staging = None
            self._unlock()
            if not self.committed:
                _remove_folders(self._created)
            self._created = []
        finally:
            for s, handler in self._previous_handlers.items():
                signal.signal(s, handler)  # type: ignore[arg-type]
            self._previous_handlers = {}

    # -- writing --------------------------------------------------------------------------
    @property
    def staging(self) -> Path:
        """The hidden temporary folder to write into (created on first use)."""
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.",
                                                  dir=self.target.parent))
        return self._staging

    def commit(self) -> Path:
        """Write the manifest and move the finished folder into place; returns the path given."""
        from . import __version__

        staging = self.staging
        files = _listing(staging)
        # "files" stays the list of names, as earlier versions read it
        manifest = {"written_by": "edxreview", "version": __version__, "command": self.command,
                    "files": files, _CHECKSUMS: _checksums(staging, files)}
        with open(staging / MARKER, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2)
            fh.write("\n")
        self._check_target()
        target = self.target
        try:
            with _signals_deferred():
                if os.path.lexists(target) and any(target.iterdir()):
                    _swap(staging, target)
                    self.committed = True
                else:
                    os.replace(staging, target)  # onto nothing or an empty folder: one step
                    self.committed = True
        except KeyboardInterrupt as exc:  # a signal held back during the swap, delivered now
            exc.output_written = self.committed  # type: ignore[attr-defined]
            raise
        finally:
            if self.committed:
                self._staging = None
        return self.path
