"""The schools' rows prepared once for every province: integer codes and flags.

A national run evaluates the schools of 32 provinces on the same tables (about 200,000 schools
and 2,000,000 selections): :func:`prepare` turns them once into arrays — a school code and an
app code per selection, the school's and the app's stages as boolean matrices, the app's
features and filing, the selection's flags and dates as ``datetime64[D]`` — and the positions
of each province's selections and schools.  :mod:`evalkit.evaluate.schools` then works on
integer arrays only (``np.bincount``, boolean masks), never on strings per row.  An entry is
held while its frames live (weak references, checked by identity and length), like
:func:`evalkit.evaluate.credit_context.prepare`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.data.dataset import flags
from evalkit.data.schema import FEATURES, STAGES, TABLES
from evalkit.evaluate.credit_context import as_bool

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """The national arrays (see the module docstring).

    ``schools``: the schools table (position = school code); ``keys``: the app ids the
    selections name (position = app key), ``key_app``: each key's position in ``apps`` (−1: not
    filed); ``sel``: one array per selection column (``school``, ``key``, flags, dates);
    ``rows_of`` / ``schools_of``: each province's selection and school positions.
    """

    schools: pd.DataFrame
    school_ids: pd.Index
    school_stage: np.ndarray
    school_text: dict[str, np.ndarray]  # school_id, name, county_code as object arrays
    apps: pd.DataFrame
    app_ids: pd.Index
    app_text: dict[str, np.ndarray]  # provider_id, name as object arrays
    provider_ids: pd.Index  # the apps' providers (position = provider code)
    app_provider: np.ndarray  # each app's provider code
    app_self_school: np.ndarray  # self_developed_by names a school (10 digits), not a department
    app_stage: np.ndarray
    app_feature: dict[str, np.ndarray]
    app_ads_games: np.ndarray
    app_stale: np.ndarray
    app_self: np.ndarray
    keys: pd.Index
    key_text: np.ndarray
    key_app: np.ndarray
    bodies: tuple[str, ...]  # the decision bodies ``sel["body"]`` codes
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


def _groups(codes: np.ndarray) -> dict[str, np.ndarray]:
    """Positions of each distinct value of ``codes`` (one sort, no loop over rows)."""
    if not len(codes):
        return {}
    order = np.argsort(codes, kind="stable")
    values, starts = np.unique(codes[order], return_index=True)
    return {str(v): order[a:b] for v, a, b in zip(values, starts, [*starts[1:], len(order)], strict=True)}


def _index(values: pd.Series) -> pd.Index:
    """An index of ``values`` as text held as Python strings: every province looks codes up in
    it (``get_indexer``), and an index of Arrow strings would convert itself at every look-up."""
    return pd.Index(values.astype("str").to_numpy(dtype=object), dtype=object)


def _days(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy("datetime64[us]").astype("datetime64[D]")


def _prepare(schools: pd.DataFrame, sel: pd.DataFrame, apps: pd.DataFrame) -> Prepared:
    schools = schools.reset_index(drop=True)
    school_ids = _index(schools["school_id"])
    apps = apps.drop_duplicates("app_id").reset_index(drop=True)
    app_ids = _index(apps["app_id"])
    key_codes, keys = pd.factorize(sel["app_id"].astype("str").to_numpy(dtype=object), sort=True)
    keys = _index(pd.Series(keys, dtype="str"))
    updated = pd.to_datetime(apps["info_updated_on"]) if "info_updated_on" in apps else None
    stale = ((updated < pd.to_datetime(apps["last_release_on"])).fillna(False).to_numpy(bool)
             if updated is not None and "last_release_on" in apps else np.zeros(len(apps), dtype=bool))
    self_dev = (apps["self_developed_by"].astype("str").fillna("").to_numpy(dtype=object)
                if "self_developed_by" in apps else np.full(len(apps), "", dtype=object))
    feature = flags(apps, "features", FEATURES) if "features" in apps else pd.DataFrame(
        False, index=apps.index, columns=list(FEATURES))
    school = school_ids.get_indexer(sel["school_id"].astype("str"))
    provider_codes, providers = pd.factorize(apps["provider_id"].astype("str").to_numpy(dtype=object), sort=True)
    body_codes, bodies = pd.factorize(sel["decision_body"].astype("str").to_numpy(dtype=object), sort=True)
    columns = {
        "school": school, "key": key_codes.astype(np.int64),
        "in_use": sel["withdrawn_on"].isna().to_numpy(bool),
        "unified": as_bool(sel["unified_use"]), "consulted": as_bool(sel["stakeholders_consulted"]),
        "body": body_codes.astype(np.int64),
        "reviewed": (sel["content_review_on"].notna() & sel["security_review_on"].notna()).to_numpy(bool),
        "charges": as_bool(sel["charges_students"]), "exclusive": as_bool(sel["exclusive_agreement"]),
        "tied": as_bool(sel["tied_to_grades"]) if "tied_to_grades" in sel else np.zeros(len(sel), dtype=bool),
        "no_unit": sel["responsible_unit"].astype("str").fillna("").str.strip().eq("").to_numpy(bool),
        "decided": _days(sel["decided_on"]), "reported": _days(sel["reported_on"]),
        "withdrawn": _days(sel["withdrawn_on"]),
    }
    province = schools["province_code"].astype("str").to_numpy(dtype=object)
    sel_province = np.where(school >= 0, province[np.maximum(school, 0)] if len(province) else "", "")
    return Prepared(
        schools=schools, school_ids=school_ids,
        school_stage=flags(schools, "stages", STAGES).to_numpy(bool),
        school_text={c: schools[c].astype("str").to_numpy(dtype=object) for c in ("school_id", "name", "county_code")},
        apps=apps, app_ids=app_ids,
        app_text={c: apps[c].astype("str").to_numpy(dtype=object) for c in ("provider_id", "name")},
        provider_ids=_index(pd.Series(providers, dtype="str")), app_provider=provider_codes.astype(np.int64),
        app_self_school=pd.Series(self_dev, dtype="str").str.fullmatch(r"[0-9]{10}").to_numpy(bool),
        app_stage=flags(apps, "stages", STAGES).to_numpy(bool) if "stages" in apps else
        np.zeros((len(apps), len(STAGES)), dtype=bool),
        app_feature={f: feature[f].to_numpy(bool) for f in FEATURES},
        app_ads_games=as_bool(apps["has_ads"]) | as_bool(apps["has_games"]),
        app_stale=stale, app_self=self_dev, keys=keys, key_text=keys.to_numpy(dtype=object),
        key_app=app_ids.get_indexer(keys), bodies=tuple(str(b) for b in bodies),
        sel=columns, rows_of=_groups(sel_province.astype(str)), schools_of=_groups(province.astype(str)),
    )  # fmt: skip
