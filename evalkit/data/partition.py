"""Province partitioning of a dataset: which provinces need which rows (docs/scale.md).

A partitioned dataset folder holds one folder per table instead of one file, split in Hive
style by the province whose evaluation needs the rows::

    apps/province=44/part-0.parquet
    submissions/province=44/part-0.parquet
    ...

so that a worker evaluating Guangdong reads ``province=44`` of every table and nothing else
(``evalkit.load_dataset(path, provinces=["44"])``).  What a province's evaluation needs:

==================================  ==========================================================
table                               partition(s) of a row
==================================  ==========================================================
``submissions``, ``panel_scores``   its own ``province_code``
``experts``                         its own ``province_code``, the panels it scored in, and
                                    the provinces its AHP judgments count for
``providers``, ``violations``       the provider's domicile and every province one of its apps
                                    is submitted to or scored in (the credit evaluation of a
                                    province covers those providers, with all their apps)
``apps``, ``assessments``,          the partitions of the app's provider
``complaints``, ``waivers``
``ahp_judgments``                   the judgment's ``province_code``, else its expert's province
                                    (each province is weighted by its own experts)
``schools``                         its own ``province_code``
``selections``                      its school's province (and an app a school selects, with
                                    its provider, is also needed by the school's province)
``objections``,                     its own ``province_code``
``sanction_statements``,
``credit_repairs``
``rechecks``                        the province of the objection it decides
==================================  ==========================================================

A row needed by several provinces is stored in each of them (cross-submitted apps and their
providers: a few percent of the rows).  Every file keeps the contract's columns unchanged plus
``_row``, the 1-based row number in the national table, so that reading several partitions
drops the copies and restores the national order.  A row that cannot be placed (a dangling
reference, an empty code) goes to every partition, so that validation still sees it.

Such folders are written by ``evalkit generate --partitioned`` and by
:func:`evalkit.data.partitioned.partition_dataset` (from a flat folder); read by
:func:`evalkit.data.read.read_partitioned`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.data import identifiers
from evalkit.data.problems import DatasetArgumentError
from evalkit.errors import param_message

__all__ = ["PARTITION_KEY", "ROW_COLUMN", "check_provinces", "memberships", "part_files", "select"]

#: Name of the Hive partition key (the folder ``<table>/province=NN/``).
PARTITION_KEY = "province"
#: Column holding the 1-based row number of the national table in every partition file.
ROW_COLUMN = "_row"

_VALID = frozenset(identifiers.PROVINCE_CODES)
_OWN = ("submissions", "experts", "panel_scores", "schools", "objections", "sanction_statements", "credit_repairs")
_BY_APP = ("apps", "assessments", "complaints", "waivers")


def check_provinces(provinces: object, func: str = "load_dataset") -> tuple[str, ...]:
    """Province codes as a sorted tuple.

    Raises
    ------
    DatasetArgumentError
        When ``provinces`` is a string or not iterable, or names no or an unknown province
        code (also a TypeError and a ValueError).
    """
    if isinstance(provinces, str) or not isinstance(provinces, Iterable):
        raise DatasetArgumentError(param_message(
            "provinces", func, "an iterable of province codes or None", repr(provinces)))
    codes = tuple(sorted({str(p) for p in provinces}))
    bad = [c for c in codes if c not in identifiers.PROVINCE_CODES]
    if bad or not codes:
        raise DatasetArgumentError(param_message(
            "provinces", func,
            f"a list of provincial codes ({', '.join(identifiers.PROVINCE_CODES)})",
            repr(list(provinces))))
    return codes


def part_files(folder: str | PathLike[str], provinces: Iterable[str] | None = None) -> list[Path]:
    """The Parquet files of a partitioned table folder that a load of ``provinces`` reads.

    Parameters
    ----------
    folder : a table's folder (``<dataset>/apps``) holding ``province=NN/*.parquet``.
    provinces : province codes (already checked, e.g. by :func:`check_provinces`); ``None`` =
        every partition.

    Returns
    -------
    list[pathlib.Path]
        Sorted by partition then file name: exactly the files :func:`evalkit.load_dataset`
        opens for the table, so that hashing them identifies what was read.
    """
    root, prefix = Path(folder), f"{PARTITION_KEY}="
    wanted = None if provinces is None else {str(p) for p in provinces}
    parts = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix))
    return [f for p in parts if wanted is None or p.name[len(prefix):] in wanted
            for f in sorted(p.glob("*.parquet"))]


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("str").fillna("")


def _pairs(rows: np.ndarray, codes: pd.Series | np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"row": rows, "province": np.asarray(codes, dtype=object)})


def _spread(rows: np.ndarray, everywhere: np.ndarray) -> pd.DataFrame:
    """(row, province) for each of ``rows`` and each of ``everywhere`` (rows not placed)."""
    return _pairs(np.repeat(rows, len(everywhere)), np.tile(everywhere, len(rows)))


def _by_key(keys: pd.Series, lookup: pd.DataFrame, key: str,
            everywhere: np.ndarray) -> pd.DataFrame:
    """(row, province) for every row of ``keys`` via ``lookup`` (key, province); unplaced → all."""
    left = pd.DataFrame({key: keys.to_numpy(dtype=object), "row": np.arange(len(keys))})
    found = left.merge(lookup, on=key, how="inner")[["row", "province"]]
    lost = np.setdiff1d(np.arange(len(keys)), found["row"].to_numpy())
    return pd.concat([found, _spread(lost, everywhere)], ignore_index=True)


def memberships(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The provinces that need each row of each table.

    Parameters
    ----------
    tables : ``{table name: frame}`` with at least the contract's id and ``province_code``
        columns (a :class:`~evalkit.Dataset`'s tables or the generator's).

    Returns
    -------
    dict[str, pandas.DataFrame]
        For every table given, a long frame ``row`` (0-based position), ``province``, sorted by
        province then row, one line per (row, province) pair.
    """
    everywhere = _provinces_seen(tables)
    provider_of, app_of = _provider_and_app_provinces(tables)
    judged = _judged_for(tables)
    # experts: their own panel, the panels they scored in, the provinces their judgments count for
    expert_of = pd.concat([_used(tables, "panel_scores", "expert_id"),
                           judged[["expert_id", "province"]]])
    expert_of = expert_of.loc[expert_of["province"].isin(_VALID)]

    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        if name == "experts":
            extra = _by_key(_text(frame, "expert_id"), expert_of, "expert_id", everywhere[:0])
            pairs = pd.concat([_own(frame, everywhere), extra], ignore_index=True)
        elif name in _OWN:
            pairs = _own(frame, everywhere)
        elif name in ("providers", "violations"):
            pairs = _by_key(_text(frame, "provider_id"), provider_of, "provider_id", everywhere)
        elif name in _BY_APP:
            pairs = _by_key(_text(frame, "app_id"), app_of, "app_id", everywhere)
        elif name == "selections":
            pairs = _by_key(_text(frame, "school_id"), _school_provinces(tables), "school_id", everywhere)
        elif name == "rechecks":  # the province of the objection it decides
            pairs = _by_key(_text(frame, "objection_id"), _used(tables, "objections", "objection_id"),
                            "objection_id", everywhere)
        elif name == "ahp_judgments":
            ok = judged["province"].isin(_VALID).to_numpy()
            rows = judged["row"].to_numpy()
            pairs = pd.concat([_pairs(rows[ok], judged["province"][ok]),
                               _spread(rows[~ok], everywhere)], ignore_index=True)
        else:  # anything else: every province
            pairs = _spread(np.arange(len(frame)), everywhere)
        out[name] = (pairs.drop_duplicates().sort_values(["province", "row"], kind="stable")
                     .reset_index(drop=True).astype({"row": "int64", "province": "str"}))
    return out


def _provinces_seen(tables: Mapping[str, pd.DataFrame]) -> np.ndarray:
    """The valid province codes the dataset names (where a row that cannot be placed goes)."""
    seen: set[str] = set()
    for name in ("providers", *_OWN):
        if name in tables and "province_code" in tables[name]:
            seen |= set(_text(tables[name], "province_code").unique())
    return np.array(sorted(seen & _VALID), dtype=object)


def _own(frame: pd.DataFrame, everywhere: np.ndarray) -> pd.DataFrame:
    """(row, province) by the rows' own ``province_code``; an invalid code → everywhere."""
    codes = _text(frame, "province_code")
    ok = codes.isin(_VALID).to_numpy()
    rows = np.arange(len(frame))
    return pd.concat([_pairs(rows[ok], codes[ok]), _spread(rows[~ok], everywhere)],
                     ignore_index=True)


def _used(tables: Mapping[str, pd.DataFrame], name: str, key: str) -> pd.DataFrame:
    """The distinct (key, province) pairs of a table (none when it is absent or empty)."""
    frame = tables.get(name)
    if frame is None or not len(frame):
        return _none(key, "province")
    return pd.DataFrame({key: _text(frame, key), "province": _text(frame, "province_code")}
                        ).drop_duplicates()


def _provider_and_app_provinces(tables: Mapping[str, pd.DataFrame]
                                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(provider_id, province) and (app_id, province): a provider's domicile and every province
    one of its apps is submitted to or scored in; an app, those of its provider."""
    providers, apps = tables["providers"], tables["apps"]
    owner = pd.DataFrame({"app_id": _text(apps, "app_id"),
                          "provider_id": _text(apps, "provider_id")})
    home = pd.DataFrame({"provider_id": _text(providers, "provider_id"),
                         "province": _text(providers, "province_code")})
    app_use = pd.concat([_used(tables, "submissions", "app_id"),
                         _used(tables, "panel_scores", "app_id"), _selected(tables)])
    provider_of = pd.concat([home, app_use.merge(owner, on="app_id")[["provider_id", "province"]]],
                            ignore_index=True).drop_duplicates()
    provider_of = provider_of.loc[provider_of["province"].isin(_VALID)]
    app_of = owner.merge(provider_of, on="provider_id")[["app_id", "province"]].drop_duplicates()
    return provider_of, app_of


def _school_provinces(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """(school_id, province) of every school (none when the table is absent)."""
    schools = tables.get("schools")
    if schools is None or not len(schools):
        return _none("school_id", "province")
    out = pd.DataFrame({"school_id": _text(schools, "school_id"), "province": _text(schools, "province_code")})
    return out.loc[out["province"].isin(_VALID)].drop_duplicates()


def _selected(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """(app_id, province): the apps schools select, with the schools' provinces."""
    sel = tables.get("selections")
    if sel is None or not len(sel):
        return _none("app_id", "province")
    pairs = pd.DataFrame({"school_id": _text(sel, "school_id"), "app_id": _text(sel, "app_id")}).drop_duplicates()
    return pairs.merge(_school_provinces(tables), on="school_id")[["app_id", "province"]].drop_duplicates()


def _judged_for(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """(row, expert_id, province) of every AHP judgment: the province it counts for, its
    ``province_code``, else its expert's province (possibly empty or invalid)."""
    ahp = tables.get("ahp_judgments")
    if ahp is None or not len(ahp):
        return pd.DataFrame({"row": pd.Series([], dtype="int64"),
                             "expert_id": pd.Series([], dtype=object),
                             "province": pd.Series([], dtype=object)})
    experts = tables.get("experts")
    expert_home = (pd.DataFrame({"expert_id": _text(experts, "expert_id"),
                                 "province": _text(experts, "province_code")})
                   .drop_duplicates("expert_id") if experts is not None and len(experts) else
                   _none("expert_id", "province"))
    stated = (_text(ahp, "province_code") if "province_code" in ahp.columns
              else pd.Series("", index=ahp.index))
    home = _text(ahp, "expert_id").map(expert_home.set_index("expert_id")["province"]).fillna("")
    province = np.where(stated.ne("").to_numpy(), stated.to_numpy(), home.to_numpy())
    return pd.DataFrame({"row": np.arange(len(ahp)),
                         "expert_id": _text(ahp, "expert_id").to_numpy(), "province": province})


def _none(*columns: str) -> pd.DataFrame:
    """A frame without rows of the given object columns."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


def select(tables: Mapping[str, pd.DataFrame], provinces: Iterable[str],
           member: Mapping[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """The rows of ``tables`` that the evaluation of ``provinces`` needs, in national order.

    The same rows, in the same order, as reading those partitions of a partitioned dataset
    (:func:`evalkit.load_dataset` with ``provinces``).  ``member``: :func:`memberships` of
    ``tables`` when already computed.
    """
    codes = check_provinces(provinces, func="partition.select")
    if member is None:
        member = memberships(tables)
    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        m = member[name]
        rows = np.unique(m.loc[m["province"].isin(codes), "row"].to_numpy())
        out[name] = frame.iloc[rows].reset_index(drop=True)
    return out
