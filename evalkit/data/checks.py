"""Checks of a converted dataset: within each table, and across tables.

Within a table (:func:`check_table`): identifier formats (:mod:`evalkit.data.identifiers`),
unique keys, event dates against ``as_of`` and the order of dates in a row.  Across tables
(:func:`check_references`): references, criterion ids, the items of AHP judgments and the
owners of violations' apps.  Every check is vectorised over whole columns, on the distinct
values of a column converted per distinct value (:class:`evalkit.data.convert.LoadedTable`), and
reports to a :class:`~evalkit.data.problems.ProblemLog`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evalkit.data import identifiers, schema
from evalkit.data.convert import LoadedTable
from evalkit.data.problems import ProblemLog, first_in_row

__all__ = ["check_references", "check_table"]


def check_table(loaded: LoadedTable, as_of: pd.Timestamp | None, providers: LoadedTable,
                out: ProblemLog) -> None:
    """Check one converted table (``providers``: the providers table, for app filing numbers)."""
    if loaded.frame is None:
        return
    _check_identifiers(loaded, out, providers)
    _check_keys(loaded, out)
    _check_dates(loaded, as_of, out)


# ---------------------------------------------------------------------------------------------
# Within a table


def _check_identifiers(loaded: LoadedTable, out: ProblemLog, providers: LoadedTable) -> None:
    frame = loaded.frame
    if frame is None:
        return
    for col in loaded.table.columns:
        if not col.identifier or col.name in loaded.missing:
            continue
        s = frame[col.name]
        if col.identifier == "uscc":
            found = identifiers.uscc_problems(s)
        elif col.identifier == "icp":
            found = identifiers.icp_problems(s)
        elif col.identifier == "telecom":
            found = identifiers.telecom_licence_problems(s)
        elif col.identifier in ("school_id", "county"):  # against the row's own province
            own = frame["province_code"] if "province_code" in frame and "province_code" not in loaded.missing else None
            check = identifiers.school_id_problems if col.identifier == "school_id" else identifiers.county_problems
            found = check(s, own)
        else:
            prov = None
            pf = providers.frame
            if (pf is not None and "provider_id" in frame and "provider_id" not in providers.missing
                    and "province_code" not in providers.missing):
                lookup = pf.drop_duplicates("provider_id").set_index("provider_id")["province_code"]
                prov = frame["provider_id"].map(lookup)
            found = identifiers.app_filing_problems(s, prov)
        found = found[found.notna()]
        if not len(found):
            continue
        severity = found.map(lambda f: f[0])
        message = found.map(lambda f: f[1])
        for sev in ("error", "warning"):
            out.rows(loaded.file, col.name, message[(severity == sev).to_numpy(bool)], str,
                     severity=sev, code="identifier")


def _check_keys(loaded: LoadedTable, out: ProblemLog) -> None:
    frame = loaded.frame
    if frame is None:
        return
    keys = ([loaded.table.key] if loaded.table.key else []) + list(loaded.table.natural_keys)
    for key in keys:
        if any(k in loaded.missing for k in key):
            continue
        sub = frame[list(key)]
        valid = np.ones(len(sub), dtype=bool)
        for k in key:
            s = sub[k]
            valid &= s.notna().to_numpy(bool)
            if s.dtype == "str" and not loaded.table.column(k).nullable:  # empty is a value
                valid &= (s.fillna("") != "").to_numpy(bool)
        in_dup = _duplicated([loaded.codes(k)[valid] for k in key])
        if not in_dup.any():
            continue
        dup = sub.iloc[np.flatnonzero(valid)[in_dup]]
        first = pd.Series(dup.index, index=dup.index).groupby(
            [dup[k] for k in key], sort=False, dropna=False).transform("min")
        later = dup[(first.to_numpy() != dup.index.to_numpy())]
        first = first[later.index]
        column = "+".join(key)
        if len(key) == 1:
            labels = later[key[0]].astype("str")

            def msg(x: tuple, k: str = key[0]) -> str:
                return f"duplicate {k} {x[0]!r} {first_in_row(x[1])}"
        else:
            labels = later.astype("str").agg(", ".join, axis=1)

            def msg(x: tuple, k: str = ", ".join(key)) -> str:
                return f"duplicate ({k}) = ({x[0]}) {first_in_row(x[1])}"
        pairs = pd.Series(list(zip(labels.tolist(), first.tolist(), strict=True)),
                          index=later.index, dtype=object)
        out.rows(loaded.file, column, pairs, msg, code="duplicate", related=first)


def _duplicated(codes: list[np.ndarray]) -> np.ndarray:
    """Rows whose combination of codes occurs more than once (``keep=False``)."""
    n = len(codes[0])
    if n < 2:
        return np.zeros(n, dtype=bool)
    later, same = np.zeros(n - 1, dtype=bool), np.ones(n - 1, dtype=bool)
    for c in codes:  # is every row after the one before it (lexicographically)?
        later |= same & (c[1:] > c[:-1])
        same &= c[1:] == c[:-1]
    if later.all():  # strictly increasing (a table sorted by its key): all distinct
        return np.zeros(n, dtype=bool)
    return pd.DataFrame(dict(enumerate(codes))).duplicated(keep=False).to_numpy(bool)


def _check_dates(loaded: LoadedTable, as_of: pd.Timestamp | None, out: ProblemLog) -> None:
    frame = loaded.frame
    if frame is None:
        return
    if as_of is not None:
        for col in loaded.table.columns:
            if col.kind == "date" and col.event and col.name not in loaded.missing:
                s = frame[col.name]
                late = s[(s > as_of).fillna(False).to_numpy(bool)]
                out.rows(loaded.file, col.name, late.dt.strftime("%Y-%m-%d"),
                         lambda x, c=col.name: f"{c} {x} is after as_of {as_of:%Y-%m-%d}",
                         code="future_date")
    for order in schema.DATE_ORDERS:
        if order.table != loaded.table.name or {order.later, order.earlier} & loaded.missing:
            continue
        later, earlier = frame[order.later], frame[order.earlier]
        wrong = (later < earlier).fillna(False).to_numpy(bool)
        pairs = pd.Series(list(zip(later[wrong].dt.strftime("%Y-%m-%d").tolist(),
                                   earlier[wrong].dt.strftime("%Y-%m-%d").tolist(), strict=True)),
                          index=frame.index[wrong], dtype=object)
        out.rows(loaded.file, order.later, pairs,
                 lambda x, o=order: f"{o.later} {x[0]} is before {o.earlier} {x[1]}",
                 severity=order.severity, code="date_order")


# ---------------------------------------------------------------------------------------------
# Across tables


def check_references(loaded: dict[str, LoadedTable], criteria: frozenset[str] | None,
                     out: ProblemLog) -> None:
    """Check what the tables say about each other: references, criterion ids (unless
    ``criteria`` is None), the items of AHP judgments and the owners of violations' apps."""
    _check_links(loaded, out)
    if criteria is not None:
        _check_criteria(loaded, criteria, out)
    _check_ahp_items(loaded["ahp_judgments"], criteria, out)
    _check_violation_apps(loaded, out)
    _check_recheck_dates(loaded, out)


def _check_links(loaded: dict[str, LoadedTable], out: ProblemLog) -> None:
    """Every reference (:data:`evalkit.data.schema.REFERENCES`) points to a row of its target."""
    for ref in schema.REFERENCES:
        src, tgt = loaded[ref.table], loaded[ref.target]
        if src.frame is None or ref.column in src.missing or tgt.status == "failed":
            continue
        items = None
        if src.table.column(ref.column).kind == "idlist":
            items = src.frame[ref.column]
            items = items[items != ""].str.split(";").explode()
            items = items[_named(items).to_numpy(bool)]
        if not (src.holds(ref.column, _named).any() if items is None else len(items)):
            continue
        if tgt.status == "absent":
            out.add(src.file, None, ref.column,
                    f"{ref.column} refers to {ref.target}, but {tgt.file} is absent",
                    severity=ref.severity, code="dangling")
            continue
        if tgt.frame is None or ref.target_column in tgt.missing:
            continue
        known = tgt.frame[ref.target_column]
        if items is None:
            dangling = src.where(ref.column, lambda s, k=known: _named(s) & ~_isin(s, k))
        else:
            dangling = items[~items.isin(known).to_numpy(bool)]
            dangling = dangling[~dangling.index.duplicated()]
        where = tgt.file if ref.target_column == ref.column else f"{tgt.file} ({ref.target_column})"
        out.rows(src.file, ref.column, dangling,
                 lambda x, c=ref.column, w=where: f"{c} {x!r} is not in {w}",
                 severity=ref.severity, code="dangling")


def _check_criteria(loaded: dict[str, LoadedTable], criteria: frozenset[str],
                    out: ProblemLog) -> None:
    for tname, cname in schema.CRITERION_COLUMNS:
        src = loaded[tname]
        if src.frame is None or cname in src.missing:
            continue
        bad = src.where(cname, lambda s: (s != "") & ~s.isin(criteria))
        out.rows(src.file, cname, bad,
                 lambda x: f"unknown criterion_id {x!r} (not a criterion of the rubric)",
                 code="dangling")


def _named(values: pd.Series) -> pd.Series:
    """Which reference values are set (not empty)."""
    return values.fillna("") != ""


def _isin(values: pd.Series, known: pd.Series) -> pd.Series:
    """``values.isin(known)`` of two ``str`` Series in one Arrow call (pandas turns every
    known value into an Arrow scalar first)."""
    value_set = pa.chunked_array(pa.array(known.array)).combine_chunks()
    found = pc.is_in(pa.array(values.array), value_set=value_set)
    return pd.Series(np.asarray(found, dtype=bool), index=values.index)


def _check_ahp_items(ahp: LoadedTable, criteria: frozenset[str] | None, out: ProblemLog) -> None:
    if ahp.frame is None or {"level", "a", "b"} & ahp.missing:
        return
    f = ahp.frame
    same = f[(f["a"] != "").to_numpy(bool) & (f["a"] == f["b"]).to_numpy(bool)]
    out.rows(ahp.file, "b", same["b"], lambda x: f"a and b are the same item {x!r}")
    dims = (f["level"] == "dimensions").to_numpy(bool)
    for side in ("a", "b"):
        s = f[side]
        present = (s != "").to_numpy(bool)
        bad_dim = s[dims & present & ~s.isin(schema.DIMENSIONS).to_numpy(bool)]
        out.rows(ahp.file, side, bad_dim,
                 lambda x: f"{x!r} is not a dimension ({', '.join(schema.DIMENSIONS)})",
                 code="unknown_code")
        if criteria is not None:
            crit_level = ~dims & f["level"].isin(schema.DIMENSIONS).to_numpy(bool)
            bad_crit = s[crit_level & present & ~s.isin(criteria).to_numpy(bool)]
            out.rows(ahp.file, side, bad_crit,
                     lambda x: f"unknown criterion_id {x!r} (not a criterion of the rubric)",
                     code="dangling")


def _check_violation_apps(loaded: dict[str, LoadedTable], out: ProblemLog) -> None:
    vio, apps = loaded["violations"], loaded["apps"]
    if (vio.frame is None or apps.frame is None or {"app_id", "provider_id"} & vio.missing
            or {"app_id", "provider_id"} & apps.missing):
        return
    owner = apps.frame.drop_duplicates("app_id").set_index("app_id")["provider_id"]
    f = vio.frame
    app_owner = f["app_id"].map(owner)
    wrong = f[(app_owner.notna() & (app_owner != f["provider_id"])).fillna(False).to_numpy(bool)]
    pairs = pd.Series(list(zip(wrong["app_id"].tolist(), app_owner[wrong.index].tolist(),
                               strict=True)), index=wrong.index, dtype=object)
    out.rows(vio.file, "provider_id", pairs,
             lambda x: f"app {x[0]!r} belongs to provider {x[1]!r}, not to this provider_id",
             severity="warning", code="inconsistent")


def _check_recheck_dates(loaded: dict[str, LoadedTable], out: ProblemLog) -> None:
    """A re-check is decided on or after the day its objection was received."""
    rc, obj = loaded.get("rechecks"), loaded.get("objections")
    if (rc is None or obj is None or rc.frame is None or obj.frame is None
            or {"objection_id", "decided_on"} & rc.missing or {"objection_id", "received_on"} & obj.missing
            or rc.frame.empty or obj.frame.empty):
        return
    received = obj.frame.drop_duplicates("objection_id").set_index("objection_id")["received_on"]
    got = pd.Series(received.reindex(rc.frame["objection_id"]).to_numpy(), index=rc.frame.index)
    wrong = (rc.frame["decided_on"] < got).fillna(False).to_numpy(bool)
    pairs = pd.Series(list(zip(rc.frame["decided_on"][wrong].dt.strftime("%Y-%m-%d").tolist(),
                               got[wrong].dt.strftime("%Y-%m-%d").tolist(), strict=True)),
                      index=rc.frame.index[wrong], dtype=object)
    out.rows(rc.file, "decided_on", pairs,
             lambda x: f"decided_on {x[0]} is before the objection's received_on {x[1]} (objections.csv)",
             code="date_order")
