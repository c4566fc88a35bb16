"""What a result depends on: the hashes of the files read, and the previous published cycle.

``provenance.json`` records the sha256 of every input file (:func:`input_hashes`), of every
rubric file (:func:`hash_tree`) and of the previous cycle's files a province continued from
(:func:`previous_cycle`, found by :func:`find_previous`); the cache key of a single-province
run covers the data files it reads (:func:`data_hashes`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.data import exports
from evalkit.dates import parse_date
from evalkit.errors import DataError, Problem

__all__ = ["PreviousCycle", "data_hashes", "find_previous", "hash_tree", "input_hashes", "previous_cycle",
           "read_export"]

_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def find_previous(out_dir: str | Path | None, code: str, as_of: Any) -> Path | None:
    """The latest earlier published province folder ``<out>/<date>/<code>/`` (date < as_of)."""
    if out_dir is None:
        return None
    root = Path(out_dir)
    if not root.is_dir():
        return None
    day = parse_date(as_of, func="find_previous").strftime("%Y-%m-%d")
    dates = sorted(
        d.name for d in root.iterdir()
        if d.is_dir() and _DATE_DIR.match(d.name) and d.name < day and (d / code / "decisions.csv").is_file()
    )  # fmt: skip
    return root / dates[-1] / code if dates else None


def read_export(path: Path) -> pd.DataFrame:
    """A published CSV read back as text (``""`` for empty cells)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def hash_tree(root: Path, suffixes: tuple[str, ...] = (".yaml", ".yml", ".csv", ".json")) -> dict[str, str]:
    """sha256 of every file under ``root`` with one of ``suffixes`` (hidden paths skipped), by
    relative path, sorted."""
    return {
        p.relative_to(root).as_posix(): exports.file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix.lower() in suffixes
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }  # fmt: skip


def input_hashes(ds: Any) -> dict[str, str]:
    """sha256 of every input file read, by name (``apps.csv``) or, for a partitioned table,
    by path relative to the dataset folder (``apps/province=44/part-0.parquet``): exactly the
    part files the load read (its ``provinces``), sorted."""
    from evalkit.data.partition import part_files

    provinces = getattr(ds, "provinces", None)
    out: dict[str, str] = {}
    for path in map(Path, (getattr(ds, "files", {}) or {}).values()):  # tables
        if path.is_dir():
            for part in part_files(path, provinces):
                out[part.relative_to(path.parent).as_posix()] = exports.file_sha256(part)
        else:
            out[path.name] = exports.file_sha256(path)
    return dict(sorted(out.items()))


def data_hashes(data_dir: Path, province: str) -> dict[str, str]:
    """sha256 of the data files a single-province run reads: every flat file, and only the
    ``province=<code>`` part files of a partitioned table (other provinces' changes do not
    touch its result)."""
    from evalkit.data.partition import PARTITION_KEY

    prefix, own = f"{PARTITION_KEY}=", f"{PARTITION_KEY}={province}"
    tree = {}
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir).parts
        if (
            not p.is_file()
            or p.suffix.lower() not in (".csv", ".parquet")
            or any(part.startswith(".") for part in rel)
            or any(part.startswith(prefix) and part != own for part in rel)
        ):
            continue
        tree[p.relative_to(data_dir).as_posix()] = exports.file_sha256(p)
    return tree


@dataclass(frozen=True)
class PreviousCycle:
    """A province's previous published files (``None`` where absent) and their hashes."""

    decisions: pd.DataFrame | None = None
    credit: pd.DataFrame | None = None
    recommended: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    hashes: dict[str, str] = field(default_factory=dict)


def previous_cycle(
    path: str | Path | None, previous_dir: str | Path | None, code: str, as_of: pd.Timestamp
) -> PreviousCycle:
    """Previous decisions, credit, recommended list and credit history for province ``code``,
    plus their hashes: from ``path`` (a folder or its ``decisions.csv``) if given, else from the
    latest earlier run in ``previous_dir`` (:func:`find_previous`); empty when there is none."""
    if path is None:
        path = find_previous(previous_dir, code, as_of)
    if path is None:
        return PreviousCycle()
    path = Path(path)
    folder = path.parent if path.is_file() else path
    dec_path = path if path.is_file() else folder / "decisions.csv"
    if not dec_path.is_file():
        raise DataError([Problem(str(dec_path), None, None, "the previous decisions.csv was not found")])
    decisions = read_export(dec_path)
    hashes = {"decisions.csv": exports.file_sha256(dec_path)}
    found: dict[str, pd.DataFrame | None] = {}
    for name in ("credit", "credit_history", "recommended_list"):
        file = folder / f"{name}.csv"
        found[name] = read_export(file) if file.is_file() else None
        if file.is_file() and name != "recommended_list":
            hashes[file.name] = exports.file_sha256(file)
    return PreviousCycle(decisions, found["credit"], found["recommended_list"], found["credit_history"], hashes)
