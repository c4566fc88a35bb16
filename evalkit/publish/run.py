"""Publish a report set: the national evaluation once, province reports in parallel.

``publish()`` does, in order:

1. takes ``<out>/.lock``, recovers from killed publishes and refuses to overwrite
   ``<out>/<as_of>`` without ``force`` (:mod:`evalkit.publish.staging`);
2. loads the dataset and computes the national evaluation ONCE (:mod:`evalkit.evaluate.pipeline`),
   caches each province's result in the staging folder and writes its exports there;
3. renders every province's notebooks (``notebooks/reports.yaml``, :mod:`evalkit.publish.config`)
   in parallel on local worker processes or an existing Dask distributed cluster
   (``scheduler``; :mod:`evalkit.publish.workers`);
4. renders the national overview into ``index.html`` (failed provinces shown as failed;
   :mod:`evalkit.publish.national`);
5. ships the smallest plotly.js the set's charts need (:mod:`evalkit.publish.assets`) and moves
   the complete staging folder into place.

A province whose render raises does not stop the others; it is listed in
:attr:`PublishResult.failed` and the command line exits non-zero naming it.  The same holds for
a province blocked by errors in the rows it needs (:func:`evalkit.data.dataset.load_by_province`):
it is not evaluated and not published (no folder, no link from the index, which marks it as
blocked); its errors are in :attr:`ProvinceOutcome.problems`.  The other provinces are
evaluated on the rows they need, none of which is invalid.  Only when no requested province
can be published (an error that cannot be attributed to a province blocks them all) does the
publish fail with :class:`~evalkit.DataError`, as before.

``as_of``: required, except for the committed sample dataset (``data/sample``), whose
evaluation date :data:`SAMPLE_AS_OF` is the default.  Today's date is never assumed: the
same command must publish the same bytes tomorrow.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit import resources
from evalkit.data.excel import is_workbook
from evalkit.data.identifiers import PROVINCES
from evalkit.dates import parse_date
from evalkit.errors import DataError, Problem, PublishError, choice_message, param_message
from evalkit.evaluate.companions import write_zh_companions
from evalkit.evaluate.record import check_recordable
from evalkit.i18n import LANGS
from evalkit.publish.app_pages import write_app_pages
from evalkit.publish.assets import chart_traces, write_assets
from evalkit.publish.config import (
    REPORTS_CONFIG,
    SAMPLE_AS_OF,
    SAMPLE_DATA,
    load_reports_config,
    parse_provinces,
    resolve_as_of,
)
from evalkit.publish.national import blocked_text, overview, write_national_decisions, write_publish_cache
from evalkit.publish.staging import (
    OutputLock,
    check_free_space,
    holds_a_set,
    keep_other_provinces,
    move_into_place,
    no_trace,
    os_errors,
    recover_leftovers,
    staging_folder,
    sync_tree,
)
from evalkit.publish.workers import (
    ProgressBar,
    ProvinceOutcome,
    Runner,
    national_jobs,
    province_jobs,
)
from evalkit.rubric.calendar import run_warning

__all__ = [
    "SAMPLE_AS_OF",
    "ProvinceOutcome",
    "PublishResult",
    "iter_published",
    "publish",
]


@dataclass
class PublishResult:
    """What :func:`publish` did.

    Attributes
    ----------
    folder : Path
        ``<out>/<as_of>``, the published report set.
    as_of : str
        Evaluation date.
    outcomes : list of ProvinceOutcome
        One per requested province, in code order (blocked ones included).
    index_ok : bool
        Whether the national index rendered.
    seconds : float
        Wall time of the whole publish.
    """

    folder: Path
    as_of: str
    outcomes: list[ProvinceOutcome] = field(default_factory=list)
    index_ok: bool = True
    index_error: str = ""
    seconds: float = 0.0
    #: Provinces not requested whose data has errors: ``{code: errors}`` (for a warning).
    others_blocked: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    #: The register's warnings (a backdate: later cycles now needing regeneration).
    warnings: list[str] = field(default_factory=list)
    #: How many warnings the data has besides those shown (`evalkit validate` lists them).
    data_warnings: int = 0

    @property
    def failed(self) -> list[str]:
        """Codes of the provinces whose reports failed or whose data blocked them."""
        return [o.code for o in self.outcomes if not o.ok]

    @property
    def blocked(self) -> list[str]:
        """Codes of the provinces not published because of errors in the rows they need."""
        return [o.code for o in self.outcomes if o.blocked]

    @property
    def ok(self) -> bool:
        return self.index_ok and not self.failed


# ----------------------------------------------------------------------------------------
# the command


def publish(
    data_dir: str | Path | None = None,
    as_of: str | _dt.date | None = None,
    *,
    provinces: str | Sequence[str] | None = "all",
    workers: int | None = None,
    scheduler: Any = None,
    out_dir: str | Path | None = None,
    lang: str = "zh",
    force: bool = False,
    progress: bool = True,
    reports: str | Path | None = None,
    register: str | Path | None = None,
    backdate: bool = False,
    overlay: str | Path | None = None,
) -> PublishResult:
    """Publish the report set of one evaluation date.

    Parameters
    ----------
    data_dir : path-like, optional
        Dataset folder (contract v1), or one ``.xlsx`` workbook with a sheet per table; default
        the committed sample ``data/sample``.
    as_of : str or date, optional
        Evaluation date; required unless ``data_dir`` is the sample (default 2026-09-01).
    provinces : "all" or sequence of str or comma-separated str
        Province codes to publish.
    workers : int, optional
        Local worker processes (default: the number of cores); ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        Address of an existing Dask distributed scheduler (or a client): the province renders
        run on its workers (which must see ``out_dir``).
    out_dir : path-like, optional
        Root of published sets (default ``reports/``); the set goes to ``<out_dir>/<as_of>``.
    lang : {"zh", "en"}
        Report language.
    force : bool
        Replace the named provinces of an existing set of the same date (atomically; the other
        provinces' folders and cycles are kept); each is recorded as a cycle superseding the
        earlier one.
    progress : bool
        Show a progress bar (rich).
    reports : path-like, optional
        The reports configuration (default ``notebooks/reports.yaml``).
    register : path-like or URL, optional
        The register each province's cycle is recorded in and its previous cycle read from
        (default ``<out_dir>/register.sqlite``; a URL such as ``postgresql+psycopg://…``).
    backdate : bool
        Accept a date earlier than a province's latest recorded cycle (a warning; the later
        cycles are marked as needing regeneration).
    overlay : path-like, optional
        A rubrics folder whose ``profiles/`` files replace the shipped ones file by file (a
        province workspace's ``rubrics/``, :mod:`evalkit.publish.workspace`); each province's
        ``provenance.json`` names the profile files used.

    Returns
    -------
    PublishResult
        Check ``.failed``: provinces whose reports failed (the rest are published).

    Raises
    ------
    PublishError
        Bad arguments, the lock is held, the date exists without ``force``, the output folder
        cannot be written (read-only, no space: nothing published is replaced).
    RegisterError
        The register refuses a cycle (already recorded without ``force``, earlier than the
        latest without ``backdate``).
    """
    start = time.perf_counter()
    data = Path(data_dir) if data_dir is not None else SAMPLE_DATA
    date = resolve_as_of(as_of, data)
    codes = parse_provinces(provinces)
    _check_arguments(data, lang, workers)
    config = load_reports_config(reports or REPORTS_CONFIG)
    out = (Path(out_dir) if out_dir is not None else resources.reports_dir()).resolve()
    recorded: list[str] = []  # the cycles recorded, for the message if the set is then not moved in
    with os_errors(out, recorded), no_trace(out):  # a failure before the set is moved in leaves no OUT/ made for it
        out.mkdir(parents=True, exist_ok=True)
        target = out / date
        with OutputLock(out):
            recover_leftovers(out)
            replaces = holds_a_set(target)  # not a date holding only public notices
            if replaces and not force:
                raise PublishError(f"{target} already exists; pass --force to replace it.")
            check_free_space(out, target if target.exists() else None)
            with _open_register(register, out) as reg:
                for code in codes:  # a cycle recorded without its folder: this publish completes it
                    check_recordable(reg, code, date, force=force, backdate=backdate,
                                     published=(target / code).is_dir())
                staging = staging_folder(out, date)
                try:
                    result = _publish_into(staging, target, data.resolve(), date, codes, config, lang,
                                           workers or os.cpu_count() or 1, scheduler, progress,
                                           _Record(reg, force, backdate, replaces, overlay, recorded))
                except BaseException:
                    shutil.rmtree(staging, ignore_errors=True)
                    raise
    result.seconds = time.perf_counter() - start
    coverage = run_warning(date)  # days past the calendar's years are counted with weekends only
    if coverage:
        result.warnings.insert(0, coverage)
    return result


def _check_arguments(data: Path, lang: str, workers: int | None) -> None:
    """The arguments of :func:`publish` not checked by their own parsers."""
    if lang not in LANGS:
        raise PublishError(choice_message("lang", "publish", lang, LANGS))
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise PublishError(param_message("workers", "publish", "a positive integer", repr(workers)))
    if not (data.is_dir() or (data.is_file() and is_workbook(data))):
        raise PublishError(param_message("data_dir", "publish", "a dataset folder or .xlsx workbook",
                                         repr(str(data))))


@dataclass(frozen=True)
class _Record:
    """How a publish records its cycles: the register, ``force``, ``backdate``, whether it
    replaces an existing set; the profile overlay its evaluation reads; and the cycles it has
    recorded so far."""

    register: Any
    force: bool
    backdate: bool
    replaces: bool
    overlay: str | Path | None = None
    done: list[str] = field(default_factory=list)  # the cycles recorded (filled in by _finish)


def _open_register(register: str | Path | None, out: Path) -> Any:
    from evalkit.data.register import Register

    return Register.open(register if register is not None else out, lazy=True)  # made by the first cycle recorded


def _publish_into(staging: Path, target: Path, data: Path, date: str, codes: list[str],
                  config: dict[str, Any], lang: str, workers: int, scheduler: Any,
                  progress: bool, rec: _Record) -> PublishResult:
    """Evaluate, render every province then the index into ``staging``, record each published
    province's cycle, move the set to ``target`` (keeping the provinces not named)."""
    results: dict[str, Any] = {}
    national, blocked, others, n_warnings = _prepare(staging, data, date, codes, lang, previous_dir=target.parent,
                                                     register=rec.register, results=results, overlay=rec.overlay)
    write_assets(staging)
    jobs = province_jobs(staging, config, [c for c in codes if c not in blocked], data, date, lang)
    result = PublishResult(folder=target, as_of=date, others_blocked=others, data_warnings=n_warnings)
    stopped = [ProvinceOutcome(code, False, blocked_text(len(found)), 0.0, found)
               for code, found in blocked.items()]
    with ProgressBar(progress, len(jobs) + len(config["national"])) as tick:
        with Runner(max(1, min(workers, len(jobs))), scheduler, tick) as runner:
            outcomes = sorted(runner.run(jobs) + stopped, key=lambda o: o.code)
            meta = {"as_of": date, "lang": lang, "provinces": codes}
            write_publish_cache(staging, national, outcomes, meta)
            nat_outcomes = runner.run(national_jobs(staging, config, data, date, lang))
    result.outcomes = outcomes
    bad = [o for o in nat_outcomes if not o.ok]
    result.index_ok = not bad
    result.index_error = "; ".join(o.error for o in bad)
    shutil.rmtree(staging / ".cache", ignore_errors=True)
    # the smallest plotly.js that draws every chart of the set (the full one until now)
    write_assets(staging, chart_traces(sorted(staging.rglob("*.html"))))
    _finish(staging, target, result, results, rec, lang)
    return result


def _finish(staging: Path, target: Path, result: PublishResult, results: dict[str, Any], rec: _Record,
            lang: str) -> None:
    """Record the cycles, stamp them into the provinces' ``provenance.json``, write the national
    export of the new set and swap the staged set in.

    Replacing an existing set, a province whose render failed (e.g. for want of space) keeps its
    published folder and its recorded cycle, and a failed index replaces nothing at all.  Every
    province is checked before any is recorded: a cycle of the date recorded from other inputs
    (by a publish whose files were not written) is refused without ``force``; one recording the
    same result is completed, not recorded again.
    """
    from evalkit.evaluate.record import check_completes, record, stamp

    if rec.replaces and not result.index_ok:
        raise PublishError(f"the new set for {target} is incomplete (index: {result.index_error}); the "
                           "published set was left unchanged and nothing was recorded.")
    if rec.replaces:
        for o in result.outcomes:
            if not o.ok and not o.blocked:
                shutil.rmtree(staging / o.code, ignore_errors=True)  # the published folder is kept
    keep_other_provinces(target, staging)
    # a province whose folder is in the new set (its exports at least)
    recorded = [o.code for o in result.outcomes if o.code in results and (o.ok or not rec.replaces)]
    if not rec.force:
        for code in recorded:
            check_completes(rec.register, results[code])
    for code in recorded:
        cycle, warnings = record(rec.register, results[code], force=rec.force, backdate=rec.backdate,
                                 complete=not rec.force)
        rec.done.append(f"cycle {cycle.id} ({code} {cycle.as_of})")
        result.warnings.extend(warnings)
        stamp(results[code], staging / code, cycle)
    write_national_decisions(staging, lang)  # every province folder of the new set, as published
    sync_tree(staging)
    move_into_place(staging, target)


# ----------------------------------------------------------------------------------------
# preparation (main process): the national evaluation once


def _load(data_dir: Path, as_of: str, codes: list[str]
          ) -> tuple[Any, dict[str, tuple[Problem, ...]], dict[str, tuple[Problem, ...]]]:
    """(dataset, blocked requested provinces, blocked other provinces) of a publish.

    The dataset holds the rows every unblocked province needs (all of it when nothing is
    blocked).  Raises :class:`DataError` (every problem) when no requested province is left.
    """
    from evalkit.data.dataset import load_by_province
    from evalkit.rubric import default_criterion_ids

    check = load_by_province(data_dir, as_of=as_of, criteria=default_criterion_ids)
    blocked = {c: check.blocked[c] for c in codes if c in check.blocked}
    if check.dataset is None or len(blocked) == len(codes):
        raise DataError(check.problems)
    others = {c: p for c, p in check.blocked.items() if c not in blocked}
    return check.dataset, blocked, others


def _prepare(staging: Path, data_dir: Path, as_of: str, codes: list[str], lang: str,
             previous_dir: Path | None = None, register: Any = None, results: dict[str, Any] | None = None,
             overlay: str | Path | None = None
             ) -> tuple[dict[str, Any], dict[str, tuple[Problem, ...]], dict[str, tuple[Problem, ...]], int]:
    """Load, evaluate once, cache each province and write its exports.

    Returns the national data, the requested provinces blocked by their data (not evaluated),
    the other provinces whose data has errors and the number of the data's other warnings.
    """
    from evalkit.data.dataset import other_warnings
    from evalkit.evaluate import pipeline

    ds, blocked, others = _load(data_dir, as_of, codes)
    clean = [c for c in codes if c not in blocked]
    kept = _kept_provinces(previous_dir / as_of if previous_dir is not None else None, codes, as_of, register)
    nat = pipeline.evaluate(ds, as_of, provinces=clean, previous_dir=previous_dir, register=register,
                            overlay=overlay)
    cache = staging / ".cache"

    def keep(code: str, res: Any) -> None:
        if results is not None:
            results[code] = res
        res.save(cache / code)
        res.write_exports(staging / code, lang)
        if lang == "zh":  # the Chinese set's companions: Chinese headers, words beside the codes
            write_zh_companions(res, staging / code)
        write_app_pages(res, staging / code, lang)  # the app details: the viewer and its data files

    return overview(ds, nat, clean, lang, each=keep, blocked=blocked, kept=kept), blocked, others, other_warnings(ds)


def _kept_provinces(target: Path | None, codes: list[str], as_of: str, register: Any) -> dict[str, Any]:
    """The provinces of an existing set of the same date that this publish keeps (not named):
    ``{code: (decisions, credit)}`` of their cycle recorded for that date, for the index."""
    if target is None or register is None or not target.is_dir():
        return {}
    day_after = (parse_date(as_of) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    kept = {}
    for folder in sorted(target.iterdir()):  # the set's province folders (at most 32)
        code = folder.name
        if code in codes or code not in PROVINCES or not folder.is_dir():
            continue
        cycle = register.latest(code, day_after)
        if cycle is not None and cycle.as_of == as_of:
            kept[code] = (register.decisions(cycle), register.credit(cycle))
    return kept


def iter_published(folder: str | Path) -> Iterator[Path]:
    """Every file of a published set, sorted (for comparisons and checksums)."""
    root = Path(folder)
    yield from sorted(p for p in root.rglob("*") if p.is_file())
