"""Writing a flat dataset folder as a province-partitioned one (the layout of
:mod:`evalkit.data.partition`, docs/scale.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from os import PathLike
from pathlib import Path

from evalkit.data.dataset import load_dataset
from evalkit.data.partition import PARTITION_KEY, ROW_COLUMN, memberships
from evalkit.data.problems import ProblemLog
from evalkit.data.read import read_csv

__all__ = ["partition_dataset"]


def partition_dataset(src: str | PathLike[str], dst: str | PathLike[str], *, as_of: object = None,
                      criteria: Iterable[str] | Callable[[], Iterable[str]] | None = None
                      ) -> dict[str, Path]:
    """Write a flat dataset folder (CSV or Parquet) as a province-partitioned Parquet folder.

    The source is validated first (:func:`evalkit.data.dataset.load_dataset` with ``as_of``
    and ``criteria``: a dataset with errors is never partitioned); every file's rows are then copied
    **as read** (CSV cells as text, Parquet columns as stored) into
    ``dst/<table>/province=NN/part-0.parquet`` with ``_row``.  Loading ``dst`` gives the same
    frames as loading ``src``, whole or for some provinces.

    Returns the folder written for every table present in ``src``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    ds = load_dataset(src, as_of=as_of, criteria=criteria)
    member = memberships(ds.tables)
    out = Path(dst)
    paths: dict[str, Path] = {}
    for name, path in ds.files.items():
        if path.suffix == ".parquet":
            table = pq.read_table(path)
        else:  # every CSV cell as text, exactly as the loader reads it (BOM, GB18030, ...)
            raw = read_csv(path, path.name, ProblemLog())
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
