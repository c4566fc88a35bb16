"""STAND-IN for the province's register (issue 16), to be replaced by the register branch.

Only the part of the agreed API the pipeline uses (``open``, ``record``, ``latest``,
``decisions``, ``credit``, ``transitions``, ``bans_in_force``), on the standard library's
sqlite3 with each cycle's frames as JSON.  No hash chain, no verify, no PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.errors import EvalkitError

__all__ = ["Cycle", "Recorded", "Register", "RegisterError"]


class RegisterError(EvalkitError):
    """A refused write or a damaged register."""


@dataclass(frozen=True)
class Cycle:
    province: str
    as_of: str
    decisions: pd.DataFrame
    credit: pd.DataFrame
    transitions: pd.DataFrame
    inputs: dict[str, str] = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    evalkit_version: str = ""


@dataclass(frozen=True)
class Recorded:
    id: int
    province: str
    as_of: str
    recorded_at_seq: int
    superseded_by: int | None
    needs_regeneration: bool
    hash: str


def _frame_json(frame: pd.DataFrame) -> str:
    return frame.astype(object).where(frame.notna(), None).astype(str).to_json(orient="records", force_ascii=False)


def _frame(text: str) -> pd.DataFrame:
    rows = json.loads(text)
    return pd.DataFrame(rows).astype("str") if rows else pd.DataFrame()


_SCHEMA = """
create table if not exists cycles (id integer primary key, province text, as_of text, superseded_by integer,
  needs_regeneration integer default 0, hash text, decisions text, credit text, transitions text, meta text)
"""


class Register:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute(_SCHEMA)

    @classmethod
    def open(cls, target: str | Path) -> Register:
        t = str(target)
        if t.startswith("sqlite:///"):
            return cls(Path(t[len("sqlite:///"):]))
        if "://" in t:
            raise RegisterError(f"register {t}: only sqlite in the stand-in")
        p = Path(t)
        return cls(p / "register.sqlite" if p.is_dir() or not p.suffix else p)

    def _rec(self, row: Any) -> Recorded:
        return Recorded(row[0], row[1], row[2], row[0], row[3], bool(row[4]), row[5])

    def _current(self, province: str) -> list[Recorded]:
        rows = self.db.execute("select id, province, as_of, superseded_by, needs_regeneration, hash from cycles "
                               "where province=? and superseded_by is null order by as_of, id", (province,))
        return [self._rec(r) for r in rows]

    def record(self, cycle: Cycle, *, force: bool = False, backdate: bool = False) -> tuple[Recorded, list[str]]:
        warnings: list[str] = []
        self.db.execute("begin immediate")
        try:
            cur = self._current(cycle.province)
            same = [c for c in cur if c.as_of == cycle.as_of]
            later = [c for c in cur if c.as_of > cycle.as_of]
            if same and not force:
                raise RegisterError(f"register {self.path}: province {cycle.province} {cycle.as_of} is already "
                                    "recorded; pass --force to supersede it")
            if later and not backdate:
                raise RegisterError(f"register {self.path}: province {cycle.province} has a later cycle "
                                    f"({later[-1].as_of}) than {cycle.as_of}; pass --backdate")
            meta = json.dumps({"inputs": cycle.inputs, "parameters": cycle.parameters,
                               "evalkit_version": cycle.evalkit_version}, sort_keys=True, default=str)
            body = [_frame_json(cycle.decisions), _frame_json(cycle.credit), _frame_json(cycle.transitions), meta]
            digest = hashlib.sha256("".join(body).encode()).hexdigest()
            new = self.db.execute("insert into cycles (province, as_of, hash, decisions, credit, transitions, meta) "
                                  "values (?,?,?,?,?,?,?)", (cycle.province, cycle.as_of, digest, *body)).lastrowid
            for c in same:
                self.db.execute("update cycles set superseded_by=? where id=?", (new, c.id))
            for c in later:
                self.db.execute("update cycles set needs_regeneration=1 where id=?", (c.id,))
                warnings.append(f"province {cycle.province} {c.as_of} now needs regeneration")
            self.db.execute("commit")
        except BaseException:
            self.db.execute("rollback")
            raise
        return next(c for c in self._current(cycle.province) if c.id == new), warnings

    def latest(self, province: str, before: str) -> Recorded | None:
        cur = [c for c in self._current(province) if c.as_of < before]
        return cur[-1] if cur else None

    def _blob(self, cycle: Recorded, col: str) -> pd.DataFrame:
        (text,) = self.db.execute(f"select {col} from cycles where id=?", (cycle.id,)).fetchone()
        return _frame(text)

    def decisions(self, cycle: Recorded) -> pd.DataFrame:
        return self._blob(cycle, "decisions")

    def credit(self, cycle: Recorded) -> pd.DataFrame:
        return self._blob(cycle, "credit")

    def transitions(self, province: str, until: str) -> pd.DataFrame:
        parts = []
        for c in self._current(province):
            if c.as_of <= until:
                t = self._blob(c, "transitions")
                if not t.empty:
                    parts.append(t.assign(recorded_on=c.as_of))
        cols = ["provider_id", "on", "from", "to", "reasons", "recorded_on"]
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
        return pd.concat(parts, ignore_index=True).sort_values(["provider_id", "on"], kind="stable")

    def bans_in_force(self, province: str, on: str) -> pd.DataFrame:
        cols = ["provider_id", "provider_name", "ban_until", "decided_on", "reasons"]
        last = self.latest(province, on)
        credit = self.credit(last) if last is not None else pd.DataFrame()
        if credit.empty:
            return pd.DataFrame({c: pd.Series(dtype="str") for c in cols})
        black = credit["list"].eq("black") & ~(credit["ban_until"].ne("") & (credit["ban_until"] <= on))
        return credit.loc[black, cols].reset_index(drop=True)
