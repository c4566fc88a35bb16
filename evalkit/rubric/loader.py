"""Safe YAML for rubric and profile files: limits, ``include:``, and where each key came from.

* Files are read with a :class:`yaml.SafeLoader` subclass (no tags that run code), refused when
  larger than :data:`MAX_BYTES`, nested deeper than :data:`MAX_DEPTH` levels, or when aliases
  expand to more than :data:`MAX_NODES` nodes ("billion laughs") or refer to themselves;
* ``{include: other.yaml}`` is replaced by the other file (relative to the including file,
  never outside the root folder), with cycle detection and at most :data:`MAX_FILES` files;
* a :class:`Locator` turns a location in the merged tree (keys and indices, as pydantic reports
  them) back into the file, the line and the key path a :class:`~evalkit.errors.Problem` names.

Public: :func:`load_yaml`, :class:`Locator`, :func:`display_path`, the limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evalkit import resources
from evalkit.errors import Problem

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_FILES", "MAX_NODES", "Locator", "display_path", "load_yaml"]

MAX_BYTES = 1_000_000
MAX_DEPTH = 20
MAX_NODES = 100_000
MAX_FILES = 200


def display_path(path: Path) -> str:
    """A path as shown in problems: relative to the project root when inside it, else to the
    working directory when inside it, else as given."""
    root = resources.rubrics_dir().parent
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        try:
            return path.resolve().relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()


# --------------------------------------------------------------------------------------------
# The loader: limits and line numbers


class _YamlLimit(Exception):
    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


class _Loader(yaml.SafeLoader):
    """SafeLoader that limits nesting and records, for every container, its key lines."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self.lines: dict[int, tuple[Any, int, dict[Any, int]]] = {}
        self.duplicates: list[tuple[int, str]] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        container = self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent)
        if container:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise _YamlLimit(f"YAML nested deeper than {MAX_DEPTH} levels", line)
        try:
            return super().compose_node(parent, index)
        finally:
            if container:
                self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        obj = super().construct_object(node, deep=deep)
        if isinstance(node, yaml.MappingNode) and id(obj) not in self.lines:
            keys: dict[Any, int] = {}
            for k, _ in node.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                if key in keys:
                    self.duplicates.append((k.start_mark.line + 1, str(key)))
                keys[key] = k.start_mark.line + 1
            self.lines[id(obj)] = (obj, node.start_mark.line + 1, keys)
        elif isinstance(node, yaml.SequenceNode) and id(obj) not in self.lines:
            items = {i: n.start_mark.line + 1 for i, n in enumerate(node.value)}
            self.lines[id(obj)] = (obj, node.start_mark.line + 1, items)
        return obj

    def construct_yaml_timestamp(self, node: Any) -> Any:
        """A date-like scalar that is not a calendar date (``2031-13-01``) stays text, so the
        file's checks report it by line instead of the YAML library failing."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _expanded_size(node: Any, memo: dict[int, int], active: set[int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise _YamlLimit("recursive YAML alias", node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        return 1
    active.add(key)
    if isinstance(node, yaml.SequenceNode):
        n = 1 + sum(_expanded_size(c, memo, active) for c in node.value)
    else:
        n = 1 + sum(
            _expanded_size(k, memo, active) + _expanded_size(v, memo, active) for k, v in node.value
        )
    active.discard(key)
    memo[key] = n
    if n > MAX_NODES:
        raise _YamlLimit(
            f"YAML expands to more than {MAX_NODES} nodes (anchors/aliases explosion)",
            node.start_mark.line + 1,
        )
    return n


@dataclass
class _Origin:
    """Where each container of a loaded tree comes from: file, start line, key lines."""

    containers: dict[int, tuple[Any, str, int, dict[Any, int]]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Files, includes and the locator


def _read_text(path: Path, shown: str, problems: list[Problem]) -> str | None:
    """The file's text (UTF-8, BOM allowed), or None with a problem when unreadable or too large."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        problems.append(Problem(shown, None, None, f"cannot read file: {exc.strerror or exc}"))
        return None
    if size > MAX_BYTES:
        problems.append(Problem(shown, None, None, f"file is {size} bytes, larger than the {MAX_BYTES} allowed"))
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(shown, None, None, f"cannot read file as UTF-8: {exc}"))
        return None


def _parse_file(path: Path, origin: _Origin, problems: list[Problem]) -> Any:
    """One file's data (None when empty or refused), its containers recorded in ``origin``."""
    shown = display_path(path)
    text = _read_text(path, shown, problems)
    if text is None:
        return None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        data = loader.construct_document(node)
    except _YamlLimit as exc:
        problems.append(Problem(shown, exc.line, None, str(exc)))
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        msg = getattr(exc, "problem", None) or str(exc)
        problems.append(Problem(shown, line, None, f"invalid YAML: {msg}"))
        return None
    except RecursionError:
        problems.append(Problem(shown, None, None, "YAML too deeply nested"))
        return None
    finally:
        loader.dispose()
    for line, key in loader.duplicates:
        problems.append(Problem(shown, line, key, f"duplicate key {key!r}"))
    for obj, start, keys in loader.lines.values():
        origin.containers[id(obj)] = (obj, shown, start, keys)
    origin.files.append(path)
    return data


def _resolve_includes(
    data: Any, path: Path, root: Path, stack: tuple[Path, ...], origin: _Origin,
    problems: list[Problem], keypath: str,
) -> Any:
    """Replace every ``{include: file}`` mapping in ``data`` by the file's content."""
    if isinstance(data, dict):
        if set(data) == {"include"}:
            return _include(data, path, root, stack, origin, problems, keypath)
        for k in list(data):
            data[k] = _resolve_includes(data[k], path, root, stack, origin, problems, _join(keypath, str(k)))
        return data
    if isinstance(data, list):
        for i in range(len(data)):
            data[i] = _resolve_includes(data[i], path, root, stack, origin, problems, f"{keypath}[{i}]")
        return data
    return data


def _include(
    data: dict, path: Path, root: Path, stack: tuple[Path, ...], origin: _Origin,
    problems: list[Problem], keypath: str,
) -> Any:
    """The content of the file an ``{include: file}`` mapping names (its includes resolved),
    or None with a problem: no file name, outside ``root``, a cycle, too many files, missing."""
    target = data["include"]
    line = origin.containers.get(id(data), (None, None, None, {}))[3].get("include")

    def refuse(message: str) -> None:
        problems.append(Problem(display_path(path), line, _join(keypath, "include"), message))

    if not isinstance(target, str) or not target.strip():
        return refuse(f"must be a relative file name, got {target!r}")
    inc = (path.parent / target).resolve()
    if Path(target).is_absolute() or not inc.is_relative_to(root):
        return refuse(f"include {target!r} leaves the rubric folder {display_path(root)}")
    if inc in stack:
        return refuse("include cycle: " + " → ".join(display_path(p) for p in (*stack[stack.index(inc):], inc)))
    if len(origin.files) >= MAX_FILES:
        return refuse(f"more than {MAX_FILES} included files")
    if not inc.is_file():
        return refuse(f"included file {target!r} not found")
    sub = _parse_file(inc, origin, problems)
    return _resolve_includes(sub, inc, root, (*stack, inc), origin, problems, "")


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


def load_yaml(path: str | Path, *, root: str | Path | None = None) -> tuple[Any, Locator, list[Problem]]:
    """Load one YAML file safely, resolving ``include:`` (relative, inside ``root``).

    Returns the data, a locator mapping key paths back to files and lines, and the problems
    found (the caller raises them together with its own).
    """
    p = Path(path).resolve()
    root_p = Path(root).resolve() if root is not None else p.parent
    origin = _Origin()
    problems: list[Problem] = []
    data = _parse_file(p, origin, problems)
    if data is not None:
        data = _resolve_includes(data, p, root_p, (p,), origin, problems, "")
    return data, Locator(data, display_path(p), origin), problems


class Locator:
    """Turn a location in the merged tree (keys and indices) into (file, line, key path).

    ``data`` is the loaded tree (includes resolved), ``file`` the file it was loaded from.
    """

    def __init__(self, data: Any, file: str, origin: _Origin):
        self.data, self.file, self.origin = data, file, origin

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file read for the tree: the loaded file, then its includes in reading order."""
        return tuple(self.origin.files)

    def locate(self, loc: Iterable[Any]) -> tuple[str, int | None, str]:
        """The file, the line and the key path (relative to that file) of ``loc``."""
        node, file, rel = self.data, self.file, ""
        line: int | None = None
        info = self.origin.containers.get(id(node))
        if info:
            file, line = info[1], info[2]
        for key in loc:
            if key == "[key]":
                continue
            info = self.origin.containers.get(id(node))
            if isinstance(node, dict) and key in node:
                line = info[3].get(key, line) if info else line
                rel = _join(rel, str(key))
                node = node[key]
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                line = info[3].get(key, line) if info else line
                rel = f"{rel}[{key}]"
                node = node[key]
            else:
                rel = f"{rel}[{key}]" if isinstance(key, int) else _join(rel, str(key))
                node = None
                continue
            child = self.origin.containers.get(id(node))
            if child and child[1] != file:  # entered an included file
                file, rel, line = child[1], "", child[2]
        return file, line, rel

    def problem(self, loc: Iterable[Any], message: str, severity: str = "error", code: str = "invalid") -> Problem:
        """A :class:`~evalkit.errors.Problem` at ``loc`` (see :meth:`locate`)."""
        file, line, rel = self.locate(loc)
        return Problem(file, line, rel or None, message, severity, code)  # type: ignore[arg-type]

