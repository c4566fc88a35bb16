"""Deterministic, realistic generator of contract-v1 datasets (``evalkit generate``).

Three scales (docs/scale.md):

``sample``
    all 32 provincial units, 20–40 candidates each, a 7-expert panel per province scoring every
    candidate; 24 schools per province with about 4 selections each; small enough to commit
    (``data/sample/``, under 5.5 MB).
``province``
    one province (default Guangdong, ``44``): 2,000 candidates scored by a 9-expert panel.
``national``
    32 units, 50,000 apps, 10,000 providers, 7 experts per app drawn from a provincial pool
    (≈ 4 M panel rows, ≈ 2 M assessments, 1 M complaints); fully vectorised.

Determinism: the same ``(scale, seed, as_of, province)`` gives the same bytes.  Every random
stream is a :class:`numpy.random.Generator` seeded with ``[seed, crc32(stream name)]``, rows
are sorted by their keys, floats are written with a fixed formatting and no Python ``dict`` or
``set`` order or string hashing decides anything.

Known cases are *planted* at fixed identifiers at every scale and seed (see
``docs/generator.md`` and :func:`planted_cases`), so that reports have true things to find.

The tables are made by one builder per concern, each drawing from its own stream and sharing
the :class:`~evalkit.synth.world.World` context: :mod:`~evalkit.synth.providers`,
:mod:`~evalkit.synth.apps`, :mod:`~evalkit.synth.submissions`,
:mod:`~evalkit.synth.assessments`, :mod:`~evalkit.synth.panel` and :mod:`~evalkit.synth.ahp`
(one stream), :mod:`~evalkit.synth.complaints`, :mod:`~evalkit.synth.violations`,
:mod:`~evalkit.synth.waivers`, :mod:`~evalkit.synth.schools`; :func:`build` calls them in order and
passes on what each made.
:mod:`~evalkit.synth.writers` writes the tables.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Literal

import pandas as pd

from evalkit.data import schema
from evalkit.synth import planted
from evalkit.synth.ahp import draw_ahp
from evalkit.synth.apps import app_table, draw_apps
from evalkit.synth.assessments import draw_assessments
from evalkit.synth.complaints import draw_complaints
from evalkit.synth.objections import draw_objections
from evalkit.synth.panel import draw_panel
from evalkit.synth.params import (
    DEFAULT_AS_OF,
    DEFAULT_PROVINCE,
    FORMATS,
    MIN_APPS,
    SCALES,
    GenerateError,
    check_n_apps,
    check_params,
)
from evalkit.synth.providers import draw_providers, provider_table
from evalkit.synth.sanctions import draw_sanctions
from evalkit.synth.schools import draw_schools, school_cases
from evalkit.synth.submissions import draw_submissions
from evalkit.synth.violations import draw_violations
from evalkit.synth.waivers import draw_waivers
from evalkit.synth.world import World
from evalkit.synth.writers import typed, write_tables

__all__ = [
    "DEFAULT_AS_OF",
    "DEFAULT_PROVINCE",
    "FORMATS",
    "MIN_APPS",
    "SCALES",
    "GenerateError",
    "build",
    "generate",
    "generate_tables",
    "planted_cases",
    "write_tables",
]

Scale = Literal["sample", "province", "national"]
Format = Literal["csv", "parquet"]


def build(world: World) -> dict[str, pd.DataFrame]:
    """The tables of ``world``, builder after builder (contract order and dtypes)."""
    providers = draw_providers(world)
    apps = draw_apps(world, providers)
    submissions = draw_submissions(world, providers, apps)
    assessed = draw_assessments(world, apps, submissions)
    rng = world.rng("panel")  # the panel and the AHP judgments share one stream
    panel = draw_panel(world, rng, providers, apps, submissions)
    tables = {
        "providers": provider_table(world, providers, apps.owner, apps.fees | apps.features["payments"]),
        "apps": app_table(apps, submissions.app_dates),
        "submissions": submissions.sorted_table(),
        "assessments": assessed.table,
        "experts": panel.expert_table,
        "panel_scores": panel.scores,
        "ahp_judgments": draw_ahp(world, rng, panel.experts),
        "complaints": draw_complaints(world, apps),
        "violations": draw_violations(world, providers, apps),
        "waivers": draw_waivers(world, apps, assessed),
    }
    schools = draw_schools(world, apps, tables["submissions"])
    tables["apps"]["self_developed_by"] = schools.self_developed_by[tables["apps"]["app_id"].map(
        dict(zip(apps.id, range(len(apps.id)), strict=True))).to_numpy()]
    tables["schools"], tables["selections"] = schools.schools, schools.selections
    tables["objections"], tables["rechecks"] = draw_objections(world, apps, submissions)
    tables["sanction_statements"], tables["credit_repairs"] = draw_sanctions(world, providers, apps, submissions)
    return {name: typed(name, tables[name]) for name in schema.TABLE_NAMES}


def generate_tables(scale: Scale = "sample", *, seed: int = 0,
                    as_of: object = DEFAULT_AS_OF,
                    province: str = DEFAULT_PROVINCE,
                    n_apps: int | None = None) -> dict[str, pd.DataFrame]:
    """Generate every table of the contract in memory.

    Parameters
    ----------
    scale : {"sample", "province", "national"}
        Size of the dataset (docs/scale.md).
    seed : int, default 0
        Seed of every random stream; the same seed gives the same tables.
    as_of : date-like, default 2026-09-01
        The date the data describes: no event lies after it.
    province : str, default "44"
        The province of the ``province`` scale (ignored by the others).
    n_apps : int, optional
        ``national`` scale only: the number of apps instead of 50,000 (providers = apps / 5;
        panels, assessments and complaints follow per app).  ``None`` keeps the scale's size.

    Returns
    -------
    dict[str, pandas.DataFrame]
        One frame per table of :data:`evalkit.data.schema.TABLE_NAMES`, columns in contract order;
        dates ``datetime64[us]``, booleans ``boolean``, integers ``Int64``.  The large id
        columns of ``panel_scores`` are categoricals.
    """
    scale, seed, day, province, _ = check_params(scale, seed, as_of, province, func="generate_tables")
    size = check_n_apps(n_apps, scale, func="generate_tables")
    return build(World.make(scale, seed, day, province, n_apps=size))


def generate(out: str | PathLike[str], *, scale: Scale = "sample", seed: int = 0,
             as_of: object = DEFAULT_AS_OF, fmt: Format = "csv",
             province: str = DEFAULT_PROVINCE, partitioned: bool = False,
             n_apps: int | None = None) -> dict[str, Path]:
    """Generate a dataset folder (every table of the contract).

    Parameters
    ----------
    out : path
        Folder to write (created if needed; existing table files are replaced).
    scale, seed, as_of, province
        See :func:`generate_tables`.
    fmt : {"csv", "parquet"}, default "csv"
    partitioned : bool, default False
        Parquet only: one folder per table, Hive-partitioned by province
        (``apps/province=44/part-0.parquet``; see :mod:`evalkit.data.partition`).
    n_apps : int, optional
        ``national`` scale only: the number of apps (default 50,000); providers, panels,
        assessments and complaints scale with it (for growth benchmarks).

    Returns
    -------
    dict[str, pathlib.Path]
        The file written for every table.

    Examples
    --------
    >>> paths = generate("data/sample")                      # doctest: +SKIP
    >>> evalkit.load_dataset("data/sample").apps.shape[0]    # doctest: +SKIP
    400
    """
    scale, seed, day, province, fmt = check_params(scale, seed, as_of, province, fmt)
    tables = build(World.make(scale, seed, day, province, n_apps=check_n_apps(n_apps, scale)))
    return write_tables(tables, out, fmt=fmt, partitioned=partitioned)  # type: ignore[arg-type]


def planted_cases(scale: Scale = "sample", *, province: str = DEFAULT_PROVINCE) -> pd.DataFrame:
    """The planted cases and their fixed identifiers (the same for every seed and ``as_of``).

    Returns a frame with ``case``, ``table``, ``id`` and ``expect`` (what a correct evaluation
    finds).  At the ``province`` scale every planted app is a candidate of ``province`` and the
    gaming expert is that province's ``E{province}001``.
    """
    scale, _, _, province, _ = check_params(scale, 0, None, province, func="planted_cases")
    return pd.concat([planted.case_table(scale, province), school_cases(scale, province)], ignore_index=True)
