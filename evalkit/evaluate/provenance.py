"""What a result depends on: the hashes of the files read, and the previous cycle.

``provenance.json`` records the sha256 of every input file (:func:`input_hashes`), of every
rubric file (:func:`hash_tree`) and the register hash of the previous cycle a province
continued from (:func:`previous_cycle`: read from the register, never from published files;
:func:`find_previous` only finds sets published before the register); the cache key of a single-province
run covers the data files it reads (:func:`data_hashes`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.data import exports
from evalkit.dates import parse_date
from evalkit.errors import PublishError
from evalkit.layout import DATE_DIR

__all__ = ["PreviousCycle", "data_hashes", "find_previous", "hash_tree", "input_hashes", "previous_cycle",
           "cache_key", "profile_record", "read_export"]



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
        if DATE_DIR.match(d.name) and d.is_dir() and d.name < day and (d / code / "decisions.csv").is_file()
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


def cache_key(data_dir: Path, province: str, as_of: Any, rubric_dir: str | Path | None = None,
              overlay: str | Path | None = None) -> str:
    """The key of a single-province result (:func:`evalkit.evaluate.pipeline.province_result`):
    a sha256 over the cache format, evalkit's version, the province, the date, the data files
    it reads (:func:`data_hashes`), the rubric files, the overlay's profile files and the
    evalkit code (a result cached by an earlier evalkit of the same version is not reused)."""
    from evalkit import __version__, resources
    from evalkit.evaluate.province import CACHE_FORMAT
    from evalkit.rubric import rubrics_root

    h = hashlib.sha256()
    h.update(f"{CACHE_FORMAT}|{__version__}|{province}|{parse_date(as_of):%Y-%m-%d}|".encode())
    trees = [("data", data_hashes(data_dir, province)), ("rubric", rubrics_root(rubric_dir)),
             ("overlay", Path(overlay) if overlay is not None else None),
             ("code", hash_tree(resources.package_dir(), (".py",)))]
    for label, tree in trees:
        if isinstance(tree, Path):
            tree = hash_tree(tree) if tree.is_dir() else {}
        for name, digest in (tree or {}).items():
            h.update(f"{label}:{name}={digest}|".encode())
    return h.hexdigest()


def profile_record(files: list[Path], roots: list[Path | str | None]) -> list[dict[str, str]]:
    """The profile files a province's profile was built from (in merge order), each as
    ``{"file": …, "sha256": …}``: the path relative to the folder holding the rubrics folder
    it came from (the first of ``roots`` holding it: a workspace's ``rubrics/``, then the
    shipped one), so a workspace's profile reads ``rubrics/profiles/44.yaml``."""
    folders = [Path(r).resolve() for r in roots if r is not None]
    out = []
    for f in files:
        path = f.resolve()
        if not path.is_file():
            continue
        holder = next((r for r in folders if path.is_relative_to(r)), path.parent.parent)
        out.append({"file": path.relative_to(holder.parent).as_posix(), "sha256": exports.file_sha256(path)})
    return out


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
    """sha256 of the data files a single-province run reads: every flat file (or the dataset's
    workbook), and only the ``province=<code>`` part files of a partitioned table (other
    provinces' changes do not touch its result)."""
    from evalkit.data.partition import PARTITION_KEY

    if data_dir.is_file():  # a workbook holding every table
        return {data_dir.name: exports.file_sha256(data_dir)}
    prefix, own = f"{PARTITION_KEY}=", f"{PARTITION_KEY}={province}"
    tree = {}
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir).parts
        if (
            not p.is_file()
            or p.suffix.lower() not in (".csv", ".parquet", ".xlsx")
            or any(part.startswith(".") for part in rel)
            or any(part.startswith(prefix) and part != own for part in rel)
        ):
            continue
        tree[p.relative_to(data_dir).as_posix()] = exports.file_sha256(p)
    return tree


@dataclass(frozen=True)
class PreviousCycle:
    """A province's previous cycle as the register holds it (``None`` where there is none).

    ``decisions`` (with ``listed_on``), ``credit`` (the credit table, bans included),
    ``recommended`` (the recommended apps with their ``listed_on``), ``history`` (every status
    transition recorded up to that cycle, with ``recorded_on``), ``hashes`` (the cycle's
    register hash, for ``provenance.json``) and ``as_of``.
    """

    decisions: pd.DataFrame | None = None
    credit: pd.DataFrame | None = None
    recommended: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    hashes: dict[str, str] = field(default_factory=dict)
    as_of: str | None = None
    #: the cycle's withdrawal alerts (issue 18), text dates; None before the register kept them
    school_alerts: pd.DataFrame | None = None
    #: app_id, app_name, provider_id of the apps the register recorded for each provider with a
    #: ban in force (their latest name): the blacklist names them when the input has none
    banned_apps: pd.DataFrame | None = None


def previous_cycle(register: Any, code: str, as_of: Any, out_dir: str | Path | None = None) -> PreviousCycle:
    """Province ``code``'s latest current cycle before ``as_of`` in ``register``
    (:class:`evalkit.data.register.Register`), never the published files; empty when there is none.

    A published folder of an earlier date under ``out_dir`` that the register does not know (a
    set published before the register existed) is refused: its bans would be lost silently.

    Raises
    ------
    PublishError
        Sets published before the register exist under ``out_dir`` and the register is empty
        for the province.
    """
    day = parse_date(as_of, func="previous_cycle").strftime("%Y-%m-%d")
    last = None if register is None else register.latest(code, day)
    if last is None:
        older = find_previous(out_dir, code, as_of)
        if older is not None:
            raise PublishError(
                f"{older} was published but the register has no cycle of province {code} before {day}; "
                f"build the register from the published sets first: evalkit register import {Path(out_dir)}")
        return PreviousCycle()
    decisions = _text(register.decisions(last), _DECISION_COLUMNS)
    bans = register.bans_in_force(code, day)
    credit = _with_bans(_text(register.credit(last), _CREDIT_COLUMNS), bans)
    recommended = decisions.loc[decisions["status"].eq("recommended"), ["app_id", "listed_on"]]
    history = _text(register.transitions(code, last.as_of), _HISTORY_COLUMNS)
    history = history.loc[history["recorded_on"].le(last.as_of)].reset_index(drop=True)
    return PreviousCycle(decisions, credit, recommended.reset_index(drop=True), history,
                         {f"register:{last.as_of}": str(last.hash)}, last.as_of, register.school_alerts(last),
                         _banned_apps(register, code, day, bans["provider_id"]))


def _banned_apps(register: Any, code: str, day: str, providers: pd.Series) -> pd.DataFrame:
    """app_id, app_name, provider_id of every app the current cycles of ``code`` before ``day``
    decided for one of ``providers`` (its latest name), by provider and app."""
    trails = [register.history(code, provider=pid).assign(provider_id=pid) for pid in providers]
    apps = pd.concat([pd.DataFrame(columns=["as_of", "what", "id", "name", "superseded", "provider_id"]), *trails])
    apps = apps.loc[apps["what"].eq("decision") & ~apps["superseded"].astype(bool) & apps["as_of"].lt(day)]
    apps = apps.drop_duplicates("id", keep="last").rename(columns={"id": "app_id", "name": "app_name"})
    return apps[["app_id", "app_name", "provider_id"]].astype("str").sort_values(
        ["provider_id", "app_id"], kind="stable").reset_index(drop=True)  # fmt: skip


_DECISION_COLUMNS = ("app_id", "app_name", "provider_id", "status", "rank", "reasons", "listed_on", "objection")
_CREDIT_COLUMNS = ("provider_id", "provider_name", "legal_rep", "province_code", "grade", "list", "ban_until",
                   "decided_on", "reasons", "sanction_stage", "notified_on", "statement_ends_on", "proposed_list")
_HISTORY_COLUMNS = ("provider_id", "provider_name", "on", "from", "to", "reasons", "recorded_on")


def _with_bans(credit: pd.DataFrame, bans: pd.DataFrame) -> pd.DataFrame:
    """The previous credit table plus every ban in force the register holds for a provider it
    lacks (a provider absent from the latest cycle keeps its ban)."""
    missing = _text(bans, _CREDIT_COLUMNS)
    missing = missing.loc[~missing["provider_id"].isin(credit["provider_id"])].assign(list="black")
    return pd.concat([credit, missing], ignore_index=True) if len(missing) else credit


def _text(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame`` as text (``""`` for missing values), with every column of ``columns`` (``""``
    where the register did not keep one)."""
    out = frame.copy() if isinstance(frame, pd.DataFrame) else pd.DataFrame()
    for col in columns:
        if col not in out.columns:
            out[col] = ""
    return out.astype(object).where(out.notna(), "").astype("str").reset_index(drop=True)
