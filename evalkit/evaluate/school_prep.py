"""The schools' rows prepared once for every province: integer codes and flags.

A national run evaluates the schools of 32 provinces on the same tables (about 200,000 schools
and 2,000,000 selections): :func:`prepare` turns them once into arrays — a school code and an
app code per selection, the school's and the app's stages as boolean matrices, the app's
features and filing, the selection's flags and dates as ``datetime64[D]`` — and the positions
of each province's selections and schools.  What does not depend on a province's decisions is
counted here once: each school's selections and distinct apps in use (in all, unified, per
stage), and each selection's working days from its decision to its report.  The codes are found
by Arrow (dictionary encoding, hashed look-ups), the texts kept as Arrow strings of one chunk.
:mod:`evalkit.evaluate.schools` then works on integer arrays only (``np.bincount``, boolean
masks, one-key sorts) and takes the texts of its rows at the end, never a string per row.  An entry is
held while its frames live (weak references, checked by identity and length), like
:func:`evalkit.evaluate.credit_context.prepare`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evalkit.data.dataset import flags
from evalkit.data.schema import FEATURES, STAGES, TABLES
from evalkit.evaluate.credit_context import as_bool, working_days

__all__ = ["Prepared", "per_app", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """The national arrays (see the module docstring).

    ``schools``: the schools table (position = school code); ``keys``: the app ids the
    selections name (position = app key, in the order of the ids), ``key_app``: each key's
    position in ``apps`` (−1: not filed); ``sel``: one array per selection column (``school``,
    ``key``, flags, dates); ``rows_of``: each province's selection positions; ``schools_of``:
    each province's school positions in the order of their ids (the order of the school table).
    The ``*_text`` columns are Arrow-backed string arrays, so that a province's tables take their
    rows (``take``) without converting a string per row.
    """

    schools: pd.DataFrame
    school_ids: pd.Index
    school_rank: np.ndarray  # each school's position in the order of the ids
    school_stage: np.ndarray
    school_text: dict[str, pd.api.extensions.ExtensionArray]  # school_id, name, county_code, stages, kind
    school_county: np.ndarray  # each school's county code (position in ``counties``; −1: none)
    counties: pd.api.extensions.ExtensionArray  # the county codes, in their order
    school_counts: dict[str, np.ndarray]  # per school: selections, distinct apps in use (and unified)
    school_stage_in_use: np.ndarray  # per school and stage: distinct filed apps of the stage in use
    apps: pd.DataFrame
    app_ids: pd.Index
    app_text: dict[str, pd.api.extensions.ExtensionArray]  # provider_id, name
    provider_ids: pd.Index  # the apps' providers (position = provider code)
    app_provider: np.ndarray  # each app's provider code
    app_self_school: np.ndarray  # self_developed_by names a school (10 digits), not a department
    app_self_code: np.ndarray  # the school code self_developed_by names (−1: none)
    app_stage: np.ndarray
    app_feature: dict[str, np.ndarray]
    app_ads_games: np.ndarray
    app_stale: np.ndarray
    app_self: np.ndarray
    keys: pd.Index
    key_text: pd.api.extensions.ExtensionArray
    key_app: np.ndarray
    bodies: tuple[str, ...]  # the decision bodies ``sel["body"]`` codes
    days: np.ndarray  # the days ``sel["decided_day"]`` are positions in
    sel: dict[str, np.ndarray]
    rows_of: dict[str, np.ndarray]
    schools_of: dict[str, np.ndarray]


_PREPARED: dict[tuple[int, ...], tuple[tuple[Any, ...], tuple[int, ...], Prepared]] = {}


def _table(ds: Any, name: str) -> pd.DataFrame:
    tables = getattr(ds, "tables", {}) or {}
    frame = tables.get(name)
    if frame is None:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in TABLES[name].column_names})
    return frame


def prepare(ds: Any) -> Prepared:
    """The prepared arrays of ``ds`` (cached while its schools, selections and apps live)."""
    frames = (_table(ds, "schools"), _table(ds, "selections"), ds.apps)
    key = tuple(id(x) for x in frames)
    sizes = tuple(len(x) for x in frames)
    hit = _PREPARED.get(key)
    if hit is not None and all(r() is x for r, x in zip(hit[0], frames, strict=True)) and hit[1] == sizes:
        return hit[2]
    for k in [k for k, v in _PREPARED.items() if any(r() is None for r in v[0])]:
        del _PREPARED[k]  # frames gone
    prep = _prepare(*frames)
    _PREPARED[key] = (tuple(weakref.ref(x) for x in frames), sizes, prep)
    return prep


def _groups(codes: np.ndarray, order: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Positions of each distinct value of ``codes`` (one sort, no loop over rows), ascending or,
    with ``order`` (a permutation), in that order."""
    if not len(codes):
        return {}
    order = np.arange(len(codes)) if order is None else order
    order = order[np.argsort(codes[order], kind="stable")]
    values, starts = np.unique(codes[order], return_index=True)
    ends = [*starts[1:], len(order)]
    return {str(v): order[a:b].astype(np.int64) for v, a, b in zip(values, starts, ends, strict=True)}


def _arrow(values: pd.Series) -> pa.Array:
    """``values`` as one Arrow string array (one chunk)."""
    arrow = pa.array(pd.array(values.astype("str"), dtype="str"))
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def _text(values: pd.Series) -> pd.api.extensions.ExtensionArray:
    """``values`` as an Arrow-backed string array of one chunk: Arrow takes rows from one chunk
    directly, but joins the chunks of a chunked array again at every ``take``."""
    return pd.array(_arrow(values), dtype="str")


def _index(values: pd.Series) -> pd.Index:
    """An index of ``values`` as text held as Python strings: every province looks codes up in
    it (``get_indexer``), and an index of Arrow strings would convert itself at every look-up."""
    return pd.Index(values.astype("str").to_numpy(dtype=object), dtype=object)


def _positions(values: pd.Series, of: pd.Series) -> np.ndarray:
    """The position in ``of`` of each of ``values`` (−1: absent), hashed by Arrow in one pass."""
    at = pc.index_in(_arrow(values), value_set=_arrow(of))
    return at.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray]:
    """(code per value, the distinct values in their order): a sorted factorisation (−1: missing)
    by Arrow's dictionary encoding, which keeps the strings out of Python."""
    enc = _arrow(values).dictionary_encode()
    order = pc.sort_indices(enc.dictionary).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    at = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = np.where(at >= 0, rank[np.maximum(at, 0)] if len(rank) else -1, -1)
    return codes, pd.array(enc.dictionary.take(pa.array(order)), dtype="str")


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy("datetime64[us]").astype("datetime64[D]")


def _distinct_in_use(
    columns: dict[str, np.ndarray], n_schools: int, n_keys: int, key_stage: np.ndarray, school_stage: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per school: its selections, its distinct apps in use (and in unified use), and per stage its
    distinct filed apps of the stage in use — none of which depends on a province's decisions, so
    they are counted once (a hashed factorisation of the (school, app) pairs, ``np.bincount``)."""
    school, key = columns["school"], columns["key"]
    use = columns["in_use"] & (school >= 0)
    pair, _ = pd.factorize(school[use].astype(np.int64) * max(n_keys, 1) + key[use])
    n_pairs = int(pair.max()) + 1 if len(pair) else 0
    pair_school = np.zeros(n_pairs, dtype=np.int64)
    pair_school[pair] = school[use]
    pair_key = np.zeros(n_pairs, dtype=np.int64)
    pair_key[pair] = key[use]
    unified = np.bincount(pair[columns["unified"][use]], minlength=n_pairs) > 0
    counts = {
        "n_selections": np.bincount(school[school >= 0], minlength=n_schools),
        "n_in_use": np.bincount(pair_school, minlength=n_schools),
        "n_unified": np.bincount(pair_school[unified], minlength=n_schools),
    }
    both = key_stage[pair_key] & school_stage[pair_school]
    stage = (
        np.stack([np.bincount(pair_school[both[:, j]], minlength=n_schools) for j in range(both.shape[1])], axis=1)
        if n_pairs
        else np.zeros((n_schools, key_stage.shape[1]), dtype=np.int64)
    )
    return {k: v.astype(np.int64) for k, v in counts.items()}, stage.astype(np.int64)


def _report_days(decided: np.ndarray, reported: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(every day from the earliest to the latest date, then NaT; each selection's decision day as a
    position in them; the working days from its decision to its report).  The calendar counts the
    days of that range only, from the earliest, and a selection's count is a difference
    (``working_days(a, b) = working_days(o, b) − working_days(o, a)``)."""
    dates = np.r_[decided, reported]
    known = dates[~np.isnat(dates)]
    if not len(known):
        return np.full(1, np.datetime64("NaT"), dtype="datetime64[D]"), np.zeros(len(decided), np.int32), \
            np.full(len(decided), np.nan)  # fmt: skip
    first = known.min()
    days = np.r_[np.arange(first, known.max() + 1), np.datetime64("NaT")].astype("datetime64[D]")
    count = working_days(np.full(len(days), first), days)  # NaN for the NaT at the end

    def at(x: np.ndarray) -> np.ndarray:
        return np.where(np.isnat(x), len(days) - 1, (x - first).astype(np.int64)).astype(np.int32)

    code = at(decided)
    return days, code, count[at(reported)] - count[code]


def _prepare(schools: pd.DataFrame, sel: pd.DataFrame, apps: pd.DataFrame) -> Prepared:
    schools = schools.reset_index(drop=True)
    school_ids = _index(schools["school_id"])
    apps = apps.drop_duplicates("app_id").reset_index(drop=True)
    app_ids = _index(apps["app_id"])
    key_codes, key_text = _codes(sel["app_id"])
    keys = pd.Index(key_text.to_numpy(dtype=object), dtype=object)
    updated = pd.to_datetime(apps["info_updated_on"]) if "info_updated_on" in apps else None
    stale = (
        (updated < pd.to_datetime(apps["last_release_on"])).fillna(False).to_numpy(bool)
        if updated is not None and "last_release_on" in apps
        else np.zeros(len(apps), dtype=bool)
    )
    self_dev = (
        apps["self_developed_by"].astype("str").fillna("").to_numpy(dtype=object)
        if "self_developed_by" in apps
        else np.full(len(apps), "", dtype=object)
    )
    feature = (
        flags(apps, "features", FEATURES)
        if "features" in apps
        else pd.DataFrame(False, index=apps.index, columns=list(FEATURES))
    )
    school = _positions(sel["school_id"], schools["school_id"])
    provider_codes, providers = pd.factorize(apps["provider_id"].astype("str").to_numpy(dtype=object), sort=True)
    body_codes, bodies = _codes(sel["decision_body"])
    columns = {
        "school": school,
        "key": key_codes,
        "in_use": sel["withdrawn_on"].isna().to_numpy(bool),
        "unified": as_bool(sel["unified_use"]),
        "consulted": as_bool(sel["stakeholders_consulted"]),
        "body": body_codes,
        "reviewed": (sel["content_review_on"].notna() & sel["security_review_on"].notna()).to_numpy(bool),
        "charges": as_bool(sel["charges_students"]),
        "exclusive": as_bool(sel["exclusive_agreement"]),
        "tied": as_bool(sel["tied_to_grades"]) if "tied_to_grades" in sel else np.zeros(len(sel), dtype=bool),
        "no_unit": sel["responsible_unit"].astype("str").fillna("").str.strip().eq("").to_numpy(bool),
        "reported": _days(sel["reported_on"]),
        "withdrawn": _days(sel["withdrawn_on"]),
    }
    days, columns["decided_day"], columns["report_days"] = _report_days(_days(sel["decided_on"]), columns["reported"])
    school_stage = flags(schools, "stages", STAGES).to_numpy(bool)
    app_stage = (
        flags(apps, "stages", STAGES).to_numpy(bool)
        if "stages" in apps
        else np.zeros((len(apps), len(STAGES)), dtype=bool)
    )
    key_app = app_ids.get_indexer(keys)
    key_stage = (
        np.where((key_app >= 0)[:, None], app_stage[np.maximum(key_app, 0)], False)
        if len(apps)
        else np.zeros((len(keys), len(STAGES)), dtype=bool)
    )
    counts, stage_in_use = _distinct_in_use(columns, len(schools), len(keys), key_stage, school_stage)
    county, counties = _codes(schools["county_code"])
    province, provinces = pd.factorize(schools["province_code"].astype("str").to_numpy(dtype=object))
    province_of = np.asarray(provinces, dtype=object).astype(str)
    id_rank = pc.sort_indices(_arrow(schools["school_id"])).to_numpy().astype(np.int64)
    sel_province = np.where(school >= 0, province[np.maximum(school, 0)] if len(province) else -1, -1)
    named = lambda groups: {province_of[int(k)]: v for k, v in groups.items() if int(k) >= 0}  # noqa: E731
    app_self_school = pd.Series(self_dev, dtype="str").str.fullmatch(r"[0-9]{10}").to_numpy(bool)
    self_code = _positions(pd.Series(self_dev, dtype="str"), schools["school_id"])
    return Prepared(
        schools=schools, school_ids=school_ids, school_rank=np.argsort(id_rank), school_stage=school_stage,
        school_text={c: _text(schools[c]) for c in ("school_id", "name", "county_code", "stages", "kind")},
        school_county=county, counties=counties, school_counts=counts, school_stage_in_use=stage_in_use,
        apps=apps, app_ids=app_ids,
        app_text={c: _text(apps[c]) for c in ("provider_id", "name")},
        provider_ids=_index(pd.Series(providers, dtype="str")), app_provider=provider_codes.astype(np.int64),
        app_self_school=app_self_school, app_self_code=self_code,
        app_stage=app_stage, app_feature={f: feature[f].to_numpy(bool) for f in FEATURES},
        app_ads_games=as_bool(apps["has_ads"]) | as_bool(apps["has_games"]),
        app_stale=stale, app_self=self_dev, keys=keys, key_text=key_text,
        key_app=key_app, days=days, bodies=tuple(str(b) for b in bodies),
        sel=columns, rows_of=named(_groups(sel_province)), schools_of=named(_groups(province, id_rank)),
    )  # fmt: skip


def per_app(prep: Prepared, frame: pd.DataFrame | None, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``frame[column]`` per app of ``prep.apps`` for each of ``columns`` (by ``app_id``, the first
    row of an app; ``""`` where absent): a province's decisions looked up once."""
    out = {c: np.full(len(prep.apps), "", dtype=object) for c in columns}
    if frame is None or not len(frame):
        return out
    at = prep.app_ids.get_indexer(frame["app_id"].astype("str").to_numpy(dtype=object))
    ok = (at >= 0) & ~frame["app_id"].duplicated().to_numpy(bool)  # an app's first row
    for c in columns:  # a few columns
        if c in frame.columns:
            out[c][at[ok]] = frame[c].astype("str").to_numpy(dtype=object)[ok]
    return out
