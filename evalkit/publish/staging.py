"""Where a publish writes: the output lock, the staging folder, recovery after killed publishes
and the atomic move of a complete set into place.

* :class:`OutputLock`: ``<out>/.lock`` held with ``fcntl.flock`` (non-blocking: a second
  publish is refused with the pid of the first; the OS releases it if the holder dies).
* :func:`recover_leftovers`: an orphaned ``.old-<date>-*`` is put back when ``<date>`` is
  missing; every ``.staging-*``/``.old-*`` of a dead run is deleted.
* :func:`staging_folder`: the fresh ``.staging-<date>-<pid>`` a publish writes into.
* :func:`check_free_space`: a replacement needs at least the size of the set it replaces free
  on the output's filesystem, checked before anything is written.
* :func:`keep_other_provinces`: the province folders of an existing set that a publish does not
  name are linked into its staging folder (same filesystem: no data copied), so a forced
  single-province republish keeps the others.
* :func:`sync_tree`: every staged file and folder fsync'ed before the swap.
* :func:`move_into_place`: ``os.replace`` of the folder; an existing set is renamed aside
  first, then deleted.
* :func:`os_errors`: any ``OSError`` (read-only folder, no space, permissions) becomes a
  :class:`PublishError` naming the path.
* :func:`inside`: a path checked to stay inside the output folder.
* :func:`no_trace`: the folders a failed command made (the output folder, a date's folder)
  removed again, so that a failure before anything is published leaves nothing behind.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from evalkit.errors import PublishError
from evalkit.layout import PROVINCE_DIR, notice_only

__all__ = ["OutputLock", "check_free_space", "inside", "keep_other_provinces", "move_into_place", "no_trace",
           "os_errors", "recover_leftovers", "staging_folder", "sync_tree"]

#: Free space kept beyond the estimate of a replacement (bytes).
SPACE_MARGIN = 1 << 20

#: The folders a publish leaves behind when it is killed: ``.staging-<date>-<pid>`` and
#: ``.old-<date>-<pid>``.
LEFTOVER = re.compile(r"^\.(staging|old)-(\d{4}-\d{2}-\d{2})-(\d+)$")


class OutputLock:
    """``<out>/.lock`` held with ``fcntl.flock`` (released by the OS if the process dies).

    A lock file this lock created is removed again (while still held) when the block raises: a
    failed publish leaves no ``.lock`` in a folder that had none.

    Raises
    ------
    PublishError
        On entry, if another process holds the lock (the message gives its pid).
    """

    def __init__(self, out: Path) -> None:
        self.path = out / ".lock"
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise PublishError(
                f"another publish is running (pid {holder}) on {self.path.parent}; "
                "wait for it to finish."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        import fcntl

        if self.fd is not None:
            if exc_type is not None and self.created:
                with suppress(OSError):
                    self.path.unlink()  # still held: a process opening it now makes a new file
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def recover_leftovers(out: Path) -> list[str]:
    """Clean up after killed publishes; call only while holding ``<out>/.lock``.

    Holding the lock means no other publish is running, so every ``.staging-<date>-<pid>`` and
    ``.old-<date>-<pid>`` folder was left by a dead run.  First, a date whose folder is missing
    but which has an ``.old-<date>-*`` (a publish killed between moving the old set aside and
    moving the new one in) gets its previous set back (the newest such folder); then every
    leftover folder is deleted.

    Returns
    -------
    list of str
        What was done, one line per folder (``restored ...`` / ``removed ...``).
    """
    done = []
    leftovers = sorted((p for p in out.iterdir() if p.is_dir() and LEFTOVER.match(p.name)),
                       key=lambda p: p.name)
    olds: dict[str, list[Path]] = {}
    for p in leftovers:  # a handful of folders at most
        kind, date, _ = LEFTOVER.match(p.name).groups()  # type: ignore[union-attr]
        if kind == "old":
            olds.setdefault(date, []).append(p)
    for date, paths in sorted(olds.items()):
        target = out / date
        if not target.exists():
            newest = max(paths, key=lambda p: (p.stat().st_mtime_ns, p.name))
            os.replace(newest, target)
            done.append(f"restored {target.name} from {newest.name}")
    for p in leftovers:
        if p.exists():
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"removed {p.name}")
    return done


def staging_folder(out: Path, date: str) -> Path:
    """A fresh, empty ``<out>/.staging-<date>-<pid>``; call only while holding the lock."""
    staging = out / f".staging-{date}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    return staging


def move_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``; an existing ``target`` is renamed aside, then deleted."""
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        if old is not None:
            os.replace(old, target)  # put the previous set back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def inside(root: Path, path: Path, where: str) -> Path:
    """``path`` resolved, checked to stay strictly inside ``root``.

    Raises
    ------
    PublishError
        If ``path`` is ``root`` itself or outside it (``where`` names the setting).
    """
    resolved = Path(os.path.normpath(path)) if not path.exists() else path.resolve()
    base = Path(os.path.normpath(root)) if not root.exists() else root.resolve()
    if base not in resolved.parents:
        raise PublishError(f"{where}: {path} is outside the output folder {root}.")
    return resolved


@contextmanager
def os_errors(where: Path, recorded: list[str] | None = None) -> Iterator[None]:
    """Turn any ``OSError`` raised inside into a :class:`PublishError` naming the path (the
    error's own file, else ``where``).  ``recorded``: the cycles recorded so far (filled in
    inside the block); if any, the message says so and how to finish (the same command again)."""
    try:
        yield
    except OSError as exc:
        path = exc.filename or where
        why = exc.strerror or str(exc)
        hint = {errno.ENOSPC: " (no space left on the device)", errno.EROFS: " (read-only file system)",
                errno.EACCES: " (permission denied)"}.get(exc.errno or 0, "")
        done = (f" The register holds {', '.join(recorded)} already: once the cause is fixed, run the same "
                "command again (no --force) to write its files.") if recorded else ""
        # "Error: <path>: <reason>", as the command line prints every OSError (evalkit.cli.main)
        raise PublishError(f"Error: {path}: {why}{hint}; nothing published was replaced.{done}") from None


def _tree_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def check_free_space(out: Path, replaced: Path | None) -> None:
    """Refuse a replacement of ``replaced`` when its filesystem has less free space than the set's
    size (the new set is about as large) plus a margin.

    Raises
    ------
    PublishError
        Not enough space, naming the folder and the sizes.
    """
    if replaced is None:
        return
    need = _tree_size(replaced) + SPACE_MARGIN
    free = shutil.disk_usage(out).free
    if free < need:
        raise PublishError(f"not enough free space in {out} to replace {replaced}: {free} bytes free, about "
                           f"{need} needed; nothing published was replaced.")


def holds_a_set(target: Path) -> bool:
    """Whether ``target`` (``OUT/<date>``) holds a published set: anything but province folders
    that hold only a public notice (``<code>/notice/``, published before that date's list, and
    kept by the set then published: :func:`keep_other_provinces`)."""
    if not target.is_dir():
        return target.exists()
    return any(not (child.is_dir() and PROVINCE_DIR.match(child.name) and notice_only(child))
               for child in target.iterdir())


def keep_other_provinces(target: Path, staging: Path) -> list[str]:
    """Link into ``staging`` every province folder of an existing ``target`` that ``staging`` does
    not hold (hard links on the same filesystem, a copy where linking is refused).

    Returns the codes kept.
    """
    if not target.is_dir():
        return []
    kept = []
    for child in sorted(target.iterdir()):
        if child.is_dir() and PROVINCE_DIR.match(child.name) and not (staging / child.name).exists():
            try:
                shutil.copytree(child, staging / child.name, copy_function=os.link)
            except OSError:
                shutil.rmtree(staging / child.name, ignore_errors=True)
                shutil.copytree(child, staging / child.name)
            kept.append(child.name)
    return kept


def sync_tree(folder: Path) -> None:
    """fsync every file and folder under ``folder`` (then ``folder`` itself and its parent)."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            _fsync(path, os.O_RDONLY)
    for path in [*sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True), folder, folder.parent]:
        _fsync(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def no_trace(*folders: Path) -> Iterator[None]:
    """Remove, if the block raises, each of ``folders`` (and its parents) that did not exist
    when it was entered and is empty again: a failed ``run`` or ``publish`` leaves no empty
    ``OUT/<date>/`` or ``OUT/`` behind.  A folder that holds anything is never removed."""
    new: list[Path] = []
    for folder in folders:
        for path in (Path(folder).absolute(), *Path(folder).absolute().parents):
            if path.exists():
                break
            new.append(path)
    try:
        yield
    except BaseException:
        for path in sorted(set(new), key=lambda p: len(p.parts), reverse=True):  # deepest first
            with suppress(OSError):  # not empty (another process wrote there), or already gone
                path.rmdir()
        raise
