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
==================================  ==========================================================

A row needed by several provinces is stored in each of them (cross-submitted apps and their
providers: a few percent of the rows).  Every file keeps the contract's columns unchanged plus
``_row``, the 1-based row number in the national table, so that reading several partitions
drops the copies and restores the national order.  A row that cannot be placed (a dangling
reference, an empty code) goes to every partition, so that validation still sees it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.data import identifiers

__all__ = ["PARTITION_KEY", "ROW_COLUMN", "check_provinces", "memberships", "part_files",
           "partition_dataset", "select"]

#: Name of the Hive partition key (the folder ``<table>/province=NN/``).
PARTITION_KEY = "province"
#: Column holding the 1-based row number of the national table in every partition file.
ROW_COLUMN = "_row"

_OWN = ("submissions", "experts", "panel_scores")
_BY_APP = ("apps", "assessments", "complaints", "waivers")


def check_provinces(provinces: object, func: str = "load_dataset") -> tuple[str, ...]:
    """Province codes as a sorted tuple; raises ValueError/TypeError on anything else."""
    if isinstance(provinces, str) or not isinstance(provinces, Iterable):
        raise TypeError(f"The 'provinces' parameter of {func} must be an iterable of province "
                        f"codes or None; got {provinces!r} instead.")
    codes = tuple(sorted({str(p) for p in provinces}))
    bad = [c for c in codes if c not in identifiers.PROVINCE_CODES]
    if bad or not codes:
        raise ValueError(f"The 'provinces' parameter of {func} must list provincial codes "
                         f"({', '.join(identifiers.PROVINCE_CODES)}); got {list(provinces)!r} "
                         "instead.")
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


def _by_key(keys: pd.Series, lookup: pd.DataFrame, key: str, everywhere: np.ndarray) -> pd.DataFrame:
    """(row, province) for every row of ``keys`` via ``lookup`` (key, province); unplaced → all."""
    left = pd.DataFrame({key: keys.to_numpy(dtype=object), "row": np.arange(len(keys))})
    found = left.merge(lookup, on=key, how="inner")[["row", "province"]]
    lost = np.setdiff1d(np.arange(len(keys)), found["row"].to_numpy())
    spread = _pairs(np.repeat(lost, len(everywhere)), np.tile(everywhere, len(lost)))
    return pd.concat([found, spread], ignore_index=True)


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
    valid = set(identifiers.PROVINCE_CODES)
    seen: set[str] = set()
    for name in ("providers", *_OWN):
        if name in tables and "province_code" in tables[name]:
            seen |= set(_text(tables[name], "province_code").unique())
    everywhere = np.array(sorted(seen & valid), dtype=object)

    def own(frame: pd.DataFrame) -> pd.DataFrame:
        codes = _text(frame, "province_code")
        ok = codes.isin(valid).to_numpy()
        rows = np.arange(len(frame))
        placed = _pairs(rows[ok], codes[ok])
        lost = rows[~ok]
        return pd.concat([placed, _pairs(np.repeat(lost, len(everywhere)),
                                          np.tile(everywhere, len(lost)))], ignore_index=True)

    def used(name: str, key: str) -> pd.DataFrame:  # distinct (key, province) of a table
        frame = tables.get(name)
        if frame is None or not len(frame):
            return pd.DataFrame({key: pd.Series([], dtype=object), "province": pd.Series([], dtype=object)})
        return pd.DataFrame({key: _text(frame, key), "province": _text(frame, "province_code")}
                            ).drop_duplicates()

    providers, apps = tables["providers"], tables["apps"]
    owner = pd.DataFrame({"app_id": _text(apps, "app_id"), "provider_id": _text(apps, "provider_id")})
    home = pd.DataFrame({"provider_id": _text(providers, "provider_id"),
                         "province": _text(providers, "province_code")})
    app_use = pd.concat([used("submissions", "app_id"), used("panel_scores", "app_id")])
    provider_of = pd.concat([home, app_use.merge(owner, on="app_id")[["provider_id", "province"]]],
                            ignore_index=True).drop_duplicates()
    provider_of = provider_of.loc[provider_of["province"].isin(valid)]
    app_of = owner.merge(provider_of, on="provider_id")[["app_id", "province"]].drop_duplicates()
    # AHP judgments count for their province_code, else for their expert's province
    experts = tables.get("experts")
    expert_home = (pd.DataFrame({"expert_id": _text(experts, "expert_id"), "province": _text(experts, "province_code")})
                   .drop_duplicates("expert_id") if experts is not None and len(experts) else
                   pd.DataFrame({"expert_id": pd.Series([], dtype=object), "province": pd.Series([], dtype=object)}))
    ahp = tables.get("ahp_judgments")
    judged = pd.DataFrame({"row": pd.Series([], dtype="int64"), "expert_id": pd.Series([], dtype=object),
                           "province": pd.Series([], dtype=object)})
    if ahp is not None and len(ahp):
        stated = _text(ahp, "province_code") if "province_code" in ahp.columns else pd.Series("", index=ahp.index)
        home = _text(ahp, "expert_id").map(expert_home.set_index("expert_id")["province"]).fillna("")
        judged = pd.DataFrame({"row": np.arange(len(ahp)), "expert_id": _text(ahp, "expert_id").to_numpy(),
                               "province": np.where(stated.ne("").to_numpy(), stated.to_numpy(), home.to_numpy())})
    # experts: their own panel, the panels they scored in, the provinces their judgments count for
    expert_of = pd.concat([used("panel_scores", "expert_id"), judged[["expert_id", "province"]]])
    expert_of = expert_of.loc[expert_of["province"].isin(valid)]

    out: dict[str, pd.DataFrame] = {}
    for name, frame in tables.items():
        if name == "experts":
            extra = _by_key(_text(frame, "expert_id"), expert_of, "expert_id", everywhere[:0])
            pairs = pd.concat([own(frame), extra], ignore_index=True)
        elif name in _OWN:
            pairs = own(frame)
        elif name in ("providers", "violations"):
            pairs = _by_key(_text(frame, "provider_id"), provider_of, "provider_id", everywhere)
        elif name in _BY_APP:
            pairs = _by_key(_text(frame, "app_id"), app_of, "app_id", everywhere)
        elif name == "ahp_judgments":
            ok = judged["province"].isin(valid).to_numpy()
            lost = judged["row"].to_numpy()[~ok]
            pairs = pd.concat([_pairs(judged["row"].to_numpy()[ok], judged["province"][ok]),
                               _pairs(np.repeat(lost, len(everywhere)), np.tile(everywhere, len(lost)))],
                              ignore_index=True)
        else:  # anything else: every province
            n = len(frame)
            pairs = _pairs(np.repeat(np.arange(n), len(everywhere)), np.tile(everywhere, n))
        out[name] = (pairs.drop_duplicates().sort_values(["province", "row"], kind="stable")
                     .reset_index(drop=True).astype({"row": "int64", "province": "str"}))
    return out


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



def partition_dataset(src: str | PathLike[str], dst: str | PathLike[str], *,
                      as_of: object = None) -> dict[str, Path]:
    """Write a flat dataset folder (CSV or Parquet) as a province-partitioned Parquet folder.

    The source is validated first (:func:`evalkit.load_dataset`: a dataset with errors is never
    partitioned); every file's rows are then copied **as read** (CSV cells as text, Parquet
    columns as stored) into ``dst/<table>/province=NN/part-0.parquet`` with ``_row``.  Loading
    ``dst`` gives the same frames as loading ``src``, whole or for some provinces.

    Returns the folder written for every table present in ``src``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from evalkit.data.dataset import _Problems, _read_csv, load_dataset

    ds = load_dataset(src, as_of=as_of)
    member = memberships(ds.tables)
    out = Path(dst)
    paths: dict[str, Path] = {}
    for name, path in ds.files.items():
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:  # every CSV cell as text, exactly as the loader reads it (BOM, GB18030, ...)
            raw = _read_csv(path, path.name, _Problems())
            table = pa.Table.from_pandas(raw, preserve_index=False)
        m = member[name]
        root = out / name
        root.mkdir(parents=True, exist_ok=True)
        for code, part in m.groupby("province", sort=True):  # provinces
            rows = part["row"].to_numpy()
            piece = table.take(pa.array(rows)).append_column(ROW_COLUMN, pa.array(rows + 1))
            folder = root / f"{PARTITION_KEY}={code}"
            folder.mkdir(exist_ok=True)
            pq.write_table(piece, folder / "part-0.parquet", compression="zstd")
        paths[name] = root
    return paths
