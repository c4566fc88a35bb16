"""Publish a report set: the national evaluation once, province reports in parallel.

``publish()`` does, in order:

1. takes ``<out>/.lock`` (``fcntl.flock``, non-blocking: a second publish is refused with the
   pid of the first), recovers from killed publishes (an orphaned ``.old-<date>-*`` is put
   back when ``<date>`` is missing; every ``.staging-*``/``.old-*`` of a dead run is deleted)
   and refuses to overwrite ``<out>/<as_of>`` without ``force``;
2. loads the dataset and computes the national evaluation ONCE (:mod:`evalkit.evaluate.pipeline`),
   caches each province's result in the staging folder and writes its exports there;
3. renders every province's notebooks (``notebooks/reports.yaml``, output names confined to
   the set) with stable parameters (``out_dir`` relative to the set, the kernel working in the
   staging folder; no server path reaches a notebook) in parallel: local worker
   processes (one Jupyter kernel per worker, started by the pool initializer and reused
   across provinces) or an existing Dask distributed cluster (``scheduler``);
4. renders the national overview into ``index.html`` (failed provinces shown as failed);
5. moves the complete staging folder into place: ``os.replace`` of the folder; an existing
   date is renamed aside first, then deleted.

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
import errno
import json
import multiprocessing
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit import resources
from evalkit.dates import parse_date
from evalkit.errors import DataError, Problem, PublishError
from evalkit.i18n import LANGS, t
from evalkit.data.identifiers import PROVINCE_CODES, PROVINCES

NOTEBOOKS = resources.notebooks_dir()
REPORTS_CONFIG = resources.reports_config()
SAMPLE_DATA = resources.sample_dir()
SAMPLE_AS_OF = "2026-09-01"
PLOTLY_ASSET = "assets/plotly.min.js"
#: The partial plotly.js bundle a published set ships when its charts need nothing else (npm
#: ``plotly.js-basic-dist-min``, MIT, the version plotly.py writes figures for): bar, scatter
#: and pie in 1.2 MB instead of 4.8 MB, and quicker to start, so a page is interactive sooner.
PLOTLY_BASIC = resources.assets_dir() / "plotly-basic.min.js"
#: Trace types the basic bundle draws.
BASIC_TRACES = frozenset({"bar", "scatter", "pie"})
_CHART_DIV = re.compile(r'<div\b[^>]*\bclass="plotly-graph-div"[^>]*>')
_TRACES_ATTR = re.compile(r'\bdata-traces="([^"]*)"')

__all__ = [
    "SAMPLE_AS_OF",
    "ProvinceOutcome",
    "PublishResult",
    "chart_traces",
    "data_dir_parameter",
    "load_reports_config",
    "national_overview",
    "parse_provinces",
    "plotly_bundle",
    "publish",
    "resolve_as_of",
]


# ----------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class ProvinceOutcome:
    """How one province ended: its render job, or its data (``problems``: the errors in the
    rows it needs, when they blocked it; it was then neither evaluated nor published)."""

    code: str
    ok: bool
    error: str = ""
    seconds: float = 0.0
    problems: tuple[Problem, ...] = ()

    @property
    def blocked(self) -> bool:
        """Whether errors in its data kept the province from being published."""
        return bool(self.problems)


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
# argument checks


def parse_provinces(spec: str | Sequence[str] | None) -> list[str]:
    """Parse ``all`` or ``11,31,...`` into sorted unique province codes.

    Raises
    ------
    PublishError
        On unknown codes, naming them and the valid ones.
    """
    if spec is None or (isinstance(spec, str) and spec.strip().lower() in ("", "all")):
        return list(PROVINCE_CODES)
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    codes = [str(c).strip() for c in items if str(c).strip()]
    unknown = sorted({c for c in codes if c not in PROVINCES})
    if unknown or not codes:
        raise PublishError(
            "The 'provinces' parameter of publish must be 'all' or a comma-separated list of "
            f"province codes; got unknown code(s) {', '.join(unknown) or '(none)'} instead. "
            f"Valid codes: {', '.join(PROVINCE_CODES)}."
        )
    return sorted(set(codes))


def resolve_as_of(as_of: str | _dt.date | None, data_dir: Path) -> str:
    """The evaluation date as ``YYYY-MM-DD``: given, or the sample's date for the sample data."""
    if as_of is None:
        if data_dir.resolve() == SAMPLE_DATA.resolve():
            return SAMPLE_AS_OF
        raise PublishError(
            "The 'as_of' parameter of publish is required for data other than the sample "
            f"({SAMPLE_DATA}); got none instead. Pass --as-of YYYY-MM-DD."
        )
    return parse_date(as_of, func="publish").strftime("%Y-%m-%d")


def load_reports_config(path: str | Path = REPORTS_CONFIG) -> dict[str, Any]:
    """Read and check ``reports.yaml`` (safe loader); notebook paths become absolute."""
    import yaml

    path = Path(path)
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PublishError(f"{path}: cannot read the reports configuration: {exc}") from exc
    if not isinstance(cfg, dict) or set(cfg) - {"version", "province", "national"}:
        raise PublishError(f"{path}: must be a mapping with keys version, province, national.")
    out: dict[str, Any] = {"province": [], "national": []}
    for level in ("province", "national"):
        for i, item in enumerate(cfg.get(level) or []):
            where = f"{path}: {level}[{i}]"
            if not isinstance(item, dict):
                raise PublishError(f"{where}: must be a mapping.")
            extra = set(item) - {"name", "notebook", "html", "ipynb", "title", "provinces"}
            missing = {"name", "notebook", "html", "ipynb"} - set(item)
            if extra or missing:
                raise PublishError(f"{where}: unknown keys {sorted(extra)} / missing {sorted(missing)}.")
            nb = (path.parent / item["notebook"]).resolve()
            if not nb.is_file():
                raise PublishError(f"{where}.notebook: {nb} does not exist.")
            for key in ("html", "ipynb"):
                _check_output_name(item[key], f"{where}.{key}")
            entry = dict(item, notebook=str(nb))
            entry["provinces"] = parse_provinces(item.get("provinces", "all"))
            out[level].append(entry)
    return out


_NAME_PROBE = Path("/evalkit-output-probe")


def _check_output_name(name: Any, where: str) -> None:
    """An output name of ``reports.yaml``: relative, no ``..``, inside the set for every code.

    Raises
    ------
    PublishError
        If the name is not a string, is absolute, has a ``..`` part or a backslash, or resolves
        outside the published set.
    """
    if not isinstance(name, str) or not name.strip():
        raise PublishError(f"{where}: must be a non-empty relative file name; got {name!r} instead.")
    try:
        text = name.format(code="11")
    except (KeyError, IndexError, ValueError):
        raise PublishError(f"{where}: only the {{code}} placeholder is allowed; got {name!r} instead.") from None
    rel = Path(text)
    if rel.is_absolute() or text.startswith(("/", "~")) or "\\" in text or ".." in rel.parts:
        raise PublishError(
            f"{where}: must be a relative name inside reports/<as_of>/ (no absolute path, no '..'); "
            f"got {name!r} instead."
        )
    _inside(_NAME_PROBE, _NAME_PROBE / text, where)


def _inside(root: Path, path: Path, where: str) -> Path:
    """``path`` resolved, checked to stay strictly inside ``root`` (else :class:`PublishError`)."""
    resolved = Path(os.path.normpath(path)) if not path.exists() else path.resolve()
    base = Path(os.path.normpath(root)) if not root.exists() else root.resolve()
    if base not in resolved.parents:
        raise PublishError(f"{where}: {path} is outside the output folder {root}.")
    return resolved


# ----------------------------------------------------------------------------------------
# lock and atomic move


class _Lock:
    """``<out>/.lock`` held with ``fcntl.flock`` (released by the OS if the process dies)."""

    def __init__(self, out: Path) -> None:
        self.path = out / ".lock"
        self.fd: int | None = None

    def __enter__(self) -> _Lock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise PublishError(
                f"another publish is running (pid {holder}) on {self.path.parent}; "
                "wait for it to finish."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


_LEFTOVER = re.compile(r"^\.(staging|old)-(\d{4}-\d{2}-\d{2})-(\d+)$")


def _recover(out: Path) -> list[str]:
    """Clean up after killed publishes; call only while holding ``<out>/.lock``.

    Holding the lock means no other publish is running, so every ``.staging-<date>-<pid>`` and
    ``.old-<date>-<pid>`` folder was left by a dead run.  First, a date whose folder is missing
    but which has an ``.old-<date>-*`` (a publish killed between moving the old set aside and
    moving the new one in) gets its previous set back (the newest such folder); then every
    remaining leftover is deleted.

    Returns
    -------
    list of str
        What was done, one line per folder (``restored ...`` / ``removed ...``).
    """
    done = []
    leftovers = sorted((p for p in out.iterdir() if p.is_dir() and _LEFTOVER.match(p.name)),
                       key=lambda p: p.name)
    olds: dict[str, list[Path]] = {}
    for p in leftovers:  # a handful of folders at most
        kind, date, _ = _LEFTOVER.match(p.name).groups()  # type: ignore[union-attr]
        if kind == "old":
            olds.setdefault(date, []).append(p)
    for date, paths in sorted(olds.items()):
        target = out / date
        if not target.exists():
            newest = max(paths, key=lambda p: (p.stat().st_mtime_ns, p.name))
            os.replace(newest, target)
            done.append(f"restored {target.name} from {newest.name}")
    for p in leftovers:
        if p.exists():
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"removed {p.name}")
    return done


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``; an existing ``target`` is renamed aside, then deleted."""
    old = None
    if target.exists():
        old = target.with_name(f".old-{target.name}-{os.getpid()}")
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        if old is not None:
            os.replace(old, target)  # put the previous set back
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------------------
# workers: one kernel per process, reused


_RENDERER: Any = None
_RENDERER_LOCK = threading.Lock()


def _renderer() -> Any:
    global _RENDERER
    with _RENDERER_LOCK:
        if _RENDERER is None:
            from evalkit.publish.render import NotebookRenderer

            _RENDERER = NotebookRenderer()
        return _RENDERER


def _close_renderer() -> None:
    global _RENDERER
    with _RENDERER_LOCK:
        if _RENDERER is not None:
            _RENDERER.close()
            _RENDERER = None


def _worker_init() -> None:
    """ProcessPoolExecutor initializer: start this worker's kernel now, once."""
    _renderer()


def render_job(job: dict[str, Any]) -> ProvinceOutcome:
    """Render the notebooks of one job in this process's kernel; never raises.

    ``job``: ``code``, ``params`` (the five notebook parameters), ``cwd`` (the kernel's working
    directory, the staging folder) and ``items`` (each with ``notebook``, ``ipynb``, ``html``,
    ``title``, ``plotly_src``).
    """
    start = time.perf_counter()
    try:
        renderer = _renderer()
        for item in job["items"]:
            Path(item["html"]).parent.mkdir(parents=True, exist_ok=True)
            renderer.render(item["notebook"], job["params"], ipynb_path=item["ipynb"],
                            html_path=item["html"], title=item["title"],
                            plotly_src=item["plotly_src"], cwd=job.get("cwd"))
        return ProvinceOutcome(job["code"], True, "", time.perf_counter() - start)
    except Exception as exc:  # one province failing must not stop the others
        message = str(exc).strip().splitlines()
        text = f"{type(exc).__name__}: {message[-1] if message else ''}"
        return ProvinceOutcome(job["code"], False, text, time.perf_counter() - start)


try:  # a Dask worker plugin closing the worker's kernel when the worker stops
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - distributed is a dependency
    _WorkerPlugin = object  # type: ignore[assignment,misc]


class KernelPlugin(_WorkerPlugin):  # type: ignore[misc,valid-type]
    """Starts the worker's kernel when registered and shuts it down with the worker."""

    name = "evalkit-kernel"

    def setup(self, worker: Any) -> None:
        _renderer()

    def teardown(self, worker: Any) -> None:
        _close_renderer()


class _Runner:
    """Runs render jobs on one pool for the whole publish: local processes or a Dask cluster.

    Local: a ``ProcessPoolExecutor`` (spawn) whose initializer starts ONE kernel per worker;
    the same workers (and kernels) serve the province jobs and the national index.
    """

    def __init__(self, workers: int, scheduler: Any, tick: Callable[[ProvinceOutcome], None]) -> None:
        self.workers, self.scheduler, self.tick = workers, scheduler, tick
        self.pool: Any = None
        self.client: Any = None
        self.owns_client = False

    def __enter__(self) -> _Runner:
        if self.scheduler is None:
            ctx = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx,
                                            initializer=_worker_init)
        else:
            from distributed import Client

            if isinstance(self.scheduler, Client):
                self.client = self.scheduler
            else:
                self.client = Client(self.scheduler, set_as_default=False)
                self.owns_client = True
            self.client.register_plugin(KernelPlugin(), name=KernelPlugin.name)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        if self.client is not None and self.owns_client:
            self.client.close()

    def run(self, jobs: list[dict[str, Any]]) -> list[ProvinceOutcome]:
        if not jobs:
            return []
        if self.pool is not None:
            futures = {self.pool.submit(render_job, job): job["code"] for job in jobs}
            done: Iterator[Any] = as_completed(futures)
        else:
            from distributed import as_completed as dask_completed

            stamp = f"{os.getpid()}-{time.monotonic_ns()}"
            futures = {self.client.submit(render_job, job, pure=False,
                                          key=f"evalkit-render-{job['code']}-{stamp}"): job["code"]
                       for job in jobs}
            done = dask_completed(list(futures), loop=self.client.loop)
        outcomes = []
        for fut in done:
            try:
                outcome = fut.result()
            except Exception as exc:  # a worker died
                outcome = ProvinceOutcome(futures[fut], False, f"{type(exc).__name__}: {exc}")
            self.tick(outcome)
            outcomes.append(outcome)
        return outcomes


# ----------------------------------------------------------------------------------------
# preparation (main process): the national evaluation once


def _load(data_dir: Path, as_of: str, codes: list[str]
          ) -> tuple[Any, dict[str, tuple[Problem, ...]], dict[str, tuple[Problem, ...]]]:
    """(dataset, blocked requested provinces, blocked other provinces) of a publish.

    The dataset holds the rows every unblocked province needs (all of it when nothing is
    blocked).  Raises :class:`DataError` (every problem) when no requested province is left.
    """
    from evalkit.data.dataset import load_by_province
    from evalkit.rubric.model import default_criterion_ids

    check = load_by_province(data_dir, as_of=as_of, criteria=default_criterion_ids)
    blocked = {c: check.blocked[c] for c in codes if c in check.blocked}
    if check.dataset is None or len(blocked) == len(codes):
        raise DataError(check.problems)
    others = {c: p for c, p in check.blocked.items() if c not in blocked}
    return check.dataset, blocked, others


def _prepare(staging: Path, data_dir: Path, as_of: str, codes: list[str], lang: str,
             previous_dir: Path | None = None
             ) -> tuple[dict[str, Any], dict[str, tuple[Problem, ...]], dict[str, tuple[Problem, ...]]]:
    """Load, evaluate once, cache each province and write its exports.

    Returns the national data, the requested provinces blocked by their data (not evaluated)
    and the other provinces whose data has errors.
    """

    from evalkit.evaluate import pipeline

    ds, blocked, others = _load(data_dir, as_of, codes)
    clean = [c for c in codes if c not in blocked]
    nat = pipeline.evaluate(ds, as_of, provinces=clean, previous_dir=previous_dir)
    cache = staging / ".cache"

    def keep(code: str, res: Any) -> None:
        res.save(cache / code)
        res.write_exports(staging / code)

    return _overview(ds, nat, clean, lang, each=keep, blocked=blocked), blocked, others


def _overview(ds: Any, nat: Any, codes: list[str], lang: str,
              each: Callable[[str, Any], None] | None = None,
              blocked: dict[str, tuple[Problem, ...]] | None = None) -> dict[str, Any]:
    """Summary (one row per province: key figures) and public register of a national evaluation.

    ``blocked`` provinces (not evaluated: errors in their data) get a row with ``published``
    false, ``n_data_errors`` and zero counts; the others ``published`` true.
    """
    import pandas as pd

    rows, statuses = [], []
    for code in codes:  # a loop over provinces (at most 32)
        res = nat.province(code)
        if each is not None:
            each(code, res)
        dec = res.decisions
        counts = dec["status"].value_counts() if len(dec) else pd.Series(dtype="int64")
        credit = res.credit
        lists = credit["list"].value_counts() if len(credit) else pd.Series(dtype="int64")
        rows.append({
            "code": code, "name_zh": res.name_zh, "name_en": res.name_en,
            "n_candidates": len(dec),
            "n_recommended": int(counts.get("recommended", 0)),
            "n_not_recommended": int(counts.get("not_recommended", 0)),
            "n_excluded": int(counts.get("excluded", 0)),
            "n_providers": len(credit),
            "n_negative": int(lists.get("grey", 0)),
            "n_blacklisted": int(lists.get("black", 0)),
            "published": True, "n_data_errors": 0,
        })
        statuses.append(dec[["app_id", "status"]].assign(province_code=code))
    for code, problems in (blocked or {}).items():  # not evaluated: no figures
        p = PROVINCES[code]
        rows.append({"code": code, "name_zh": p.name_zh, "name_en": p.name_en,
                     **{c: 0 for c in ("n_candidates", "n_recommended", "n_not_recommended",
                                       "n_excluded", "n_providers", "n_negative", "n_blacklisted")},
                     "published": False, "n_data_errors": len(problems)})
    summary = pd.DataFrame(rows)
    if len(summary):
        summary = summary.sort_values("code", ignore_index=True)
    register = _register(ds, pd.concat(statuses, ignore_index=True) if statuses else None, lang)
    return {"summary": summary, "register": register}


def national_overview(data_dir: str | Path, as_of: str, lang: str = "zh", *,
                      cache_dir: str | Path | None = None) -> dict[str, Any]:
    """The national summary and register computed from a dataset (outside a publish).

    What ``national.ipynb`` shows when it runs on its own (JupyterLab, papermill, nbval): the
    same frames a publish caches for the index page, every province rendered ``ok``.

    Parameters
    ----------
    data_dir : path-like
        Dataset folder (contract v1).
    as_of : str
        Evaluation date ``YYYY-MM-DD``.
    lang : {"zh", "en"}
        Language of the register's status text.
    cache_dir : path-like, optional
        Keep the result under ``<cache_dir>/<as_of>/national-<lang>/``, valid while the data
        files, the date, the language and the evalkit version are unchanged.

    Returns
    -------
    dict
        ``summary``, ``register`` and ``meta`` as :func:`evalkit.publish.report.load_national` gives them.
    """
    import hashlib

    from evalkit import __version__

    from evalkit.evaluate import pipeline
    from evalkit.data.dataset import load_by_province
    from evalkit.rubric.model import default_criterion_ids

    date = resolve_as_of(as_of, Path(data_dir))
    if lang not in LANGS:
        raise PublishError(
            f"The 'lang' parameter of national_overview must be one of {LANGS}; got {lang!r} instead.")
    folder = key = None
    if cache_dir is not None:
        from evalkit.rubric.model import default_rubric_dir

        h = hashlib.sha256(f"{__version__}|{date}|{lang}|".encode())
        for root in (Path(data_dir), default_rubric_dir()):  # data files, rubrics and profiles
            for f in sorted(p for p in root.rglob("*") if p.is_file()):
                digest = hashlib.sha256(f.read_bytes()).hexdigest()
                h.update(f"{f.relative_to(root).as_posix()}={digest}|".encode())
        key = h.hexdigest()
        folder = Path(cache_dir) / date / f"national-{lang}"
        if (folder / "key.txt").is_file() and (folder / "key.txt").read_text(encoding="utf-8").strip() == key:
            try:
                return _read_national(folder)
            except (OSError, ValueError):
                pass  # a broken cache is recomputed
    check = load_by_province(data_dir, as_of=date, criteria=default_criterion_ids)
    if check.dataset is None:
        raise DataError(check.problems)
    ds = check.dataset
    nat = pipeline.evaluate(ds, date)
    codes = [c for c in PROVINCE_CODES if c in set(nat.provinces)]
    national = _overview(ds, nat, codes, lang, blocked=check.blocked)
    summary = national["summary"]
    summary = summary.assign(ok=summary["published"].astype(bool),
                             error=_blocked_text(summary["n_data_errors"]).where(~summary["published"], ""))
    meta = {"as_of": date, "lang": lang, "provinces": codes}
    if folder is not None and key is not None:
        _write_national(folder, summary, national["register"], meta)
        (folder / "key.txt").write_text(key + "\n", encoding="utf-8")
    return {"summary": summary, "register": national["register"].reset_index(drop=True), "meta": meta}


def _write_national(folder: Path, summary: Any, register: Any, meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    summary.sort_values("code", ignore_index=True).to_parquet(folder / "summary.parquet", index=False)
    register.to_parquet(folder / "register.parquet", index=False)
    (folder / "meta.json").write_text(json.dumps(meta, sort_keys=True, ensure_ascii=False), encoding="utf-8")


def _read_national(folder: Path) -> dict[str, Any]:
    import pandas as pd

    return {
        "summary": pd.read_parquet(folder / "summary.parquet"),
        "register": pd.read_parquet(folder / "register.parquet"),
        "meta": json.loads((folder / "meta.json").read_text(encoding="utf-8")),
    }


def _register(ds: Any, statuses: Any, lang: str) -> Any:
    """One row per filed app: filing number, name, provider, status in each province."""

    apps = ds.apps[["app_id", "name", "provider_id"]].rename(columns={"name": "app_name"})
    prov = ds.providers[["provider_id", "name"]].rename(columns={"name": "provider"})
    reg = apps.merge(prov, on="provider_id", how="left")
    if statuses is not None and len(statuses):
        names = {c: (PROVINCES[c].name_zh if lang == "zh" else PROVINCES[c].name_en) for c in PROVINCE_CODES}
        words = {s: t(s, lang) for s in statuses["status"].astype(str).unique()}
        sep = "：" if lang == "zh" else ": "
        text = (statuses["province_code"].map(names) + sep
                + statuses["status"].astype(str).map(words))
        per_app = (statuses.assign(text=text).sort_values(["app_id", "province_code"])
                   .groupby("app_id", sort=True)["text"].agg("；".join if lang == "zh" else "; ".join))
        reg = reg.merge(per_app.rename("status").reset_index(), on="app_id", how="left")
    else:
        reg["status"] = ""
    reg["status"] = reg["status"].fillna(t("not_submitted", lang))
    return reg[["app_id", "app_name", "provider", "provider_id", "status"]].sort_values(
        "app_id", ignore_index=True)


def _blocked_text(n: Any) -> Any:
    """The ``error`` of a province blocked by ``n`` errors in its data (int or Series)."""
    if isinstance(n, int):
        return f"not published: {n} error(s) in the data it needs"
    return "not published: " + n.astype(str) + " error(s) in the data it needs"


def _write_national_cache(staging: Path, national: dict[str, Any], outcomes: list[ProvinceOutcome],
                          meta: dict[str, Any]) -> None:
    import pandas as pd

    folder = staging / ".cache" / "national"
    folder.mkdir(parents=True, exist_ok=True)
    status = pd.DataFrame(
        [{"code": o.code, "ok": o.ok, "error": o.error} for o in outcomes],
        columns=["code", "ok", "error"],
    )
    summary = national["summary"].merge(status, on="code", how="left")
    summary["ok"] = summary["ok"].fillna(False).astype(bool)
    summary["error"] = summary["error"].fillna("").astype(str)
    _write_national(folder, summary, national["register"], meta)


def _plotly_version(text: str) -> str | None:
    m = re.search(r"plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)", text[:400])
    return m.group(1) if m else None


def chart_traces(pages: Iterable[str | Path]) -> set[str] | None:
    """Trace types the charts of these HTML pages draw; ``None`` when a chart does not say.

    Charts made by :func:`evalkit.publish.report.figure` carry ``data-traces="bar scatter"``; a chart
    made otherwise (e.g. ``fig.show()`` in a custom notebook) is unknown.
    """
    kinds: set[str] = set()
    for page in pages:  # the pages of one set
        for div in _CHART_DIV.findall(Path(page).read_text(encoding="utf-8", errors="replace")):
            m = _TRACES_ATTR.search(div)
            if m is None:
                return None
            kinds.update(m.group(1).split())
    return kinds


def plotly_bundle(traces: set[str] | None = None) -> str:
    """The plotly.js a published set ships.

    Parameters
    ----------
    traces : set of str, optional
        Trace types its charts draw (:func:`chart_traces`); ``None`` when unknown.

    Returns
    -------
    str
        The basic bundle (:data:`PLOTLY_BASIC`) when every trace is in :data:`BASIC_TRACES`
        and the bundle is of the plotly.js version plotly.py writes figures for; else
        plotly.py's full bundle.
    """
    from plotly.offline import get_plotlyjs

    full = get_plotlyjs()
    if traces is None or not traces <= BASIC_TRACES:
        return full
    try:
        basic = PLOTLY_BASIC.read_text(encoding="utf-8")
    except OSError:
        return full
    version = _plotly_version(basic)
    return basic if version is not None and version == _plotly_version(full) else full


def _write_assets(staging: Path, traces: set[str] | None = None) -> None:
    path = staging / PLOTLY_ASSET
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(plotly_bundle(traces), encoding="utf-8")


def _title(entry: dict[str, Any], code: str | None, lang: str) -> str:
    key = entry.get("title") or entry["name"]
    if code is None:
        return t(key, lang)
    p = PROVINCES[code]
    return t(key, lang, name=p.name_zh if lang == "zh" else p.name_en)


def data_dir_parameter(data_dir: str | Path) -> str:
    """The ``data_dir`` value passed to the notebooks: stable and without server paths.

    Relative to the current directory when the dataset is inside it (``data/sample``), else
    the folder's name only.  Inside a publish the notebooks read the publish's cache, so the
    value is informative; it must not differ between two runs of the same command.
    """
    folder = Path(data_dir).resolve()
    try:
        return folder.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return folder.name


def _item(staging: Path, entry: dict[str, Any], code: str | None, lang: str) -> dict[str, Any]:
    """One notebook to render: output paths checked to stay inside ``staging``."""
    where = f"reports.yaml: {entry['name']}"
    fmt = {"code": code or ""}
    html_path = _inside(staging, staging / entry["html"].format(**fmt), f"{where}.html")
    ipynb_path = _inside(staging, staging / entry["ipynb"].format(**fmt), f"{where}.ipynb")
    return {
        "notebook": entry["notebook"],
        "html": str(html_path),
        "ipynb": str(ipynb_path),
        "title": _title(entry, code, lang),
        "plotly_src": Path(os.path.relpath(staging / PLOTLY_ASSET, html_path.parent)).as_posix(),
    }


def _jobs(staging: Path, config: dict[str, Any], codes: list[str], data_dir: Path, as_of: str,
          lang: str) -> list[dict[str, Any]]:
    """One render job per province.

    The notebooks get stable parameters (the same command gives the same notebook bytes):
    ``out_dir`` is relative to the published set (``44``) and the kernel's working directory
    is the staging folder (``cwd``), where the private cache ``.cache/`` is found.
    """
    jobs = []
    data_param = data_dir_parameter(data_dir)
    for code in codes:  # provinces
        items = [_item(staging, entry, code, lang) for entry in config["province"]
                 if code in entry["provinces"]]
        params = {"province": code, "as_of": as_of, "data_dir": data_param,
                  "out_dir": code, "lang": lang}
        jobs.append({"code": code, "params": params, "items": items, "cwd": str(staging)})
    return jobs


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
) -> PublishResult:
    """Publish the report set of one evaluation date.

    Parameters
    ----------
    data_dir : path-like, optional
        Dataset folder (contract v1); default the committed sample ``data/sample``.
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
        Replace an existing set of the same date (atomically).
    progress : bool
        Show a progress bar (rich).
    reports : path-like, optional
        The reports configuration (default ``notebooks/reports.yaml``).

    Returns
    -------
    PublishResult
        Check ``.failed``: provinces whose reports failed (the rest are published).

    Raises
    ------
    PublishError
        Bad arguments, the lock is held, the date exists without ``force``.
    """
    start = time.perf_counter()
    data = Path(data_dir) if data_dir is not None else SAMPLE_DATA
    date = resolve_as_of(as_of, data)
    codes = parse_provinces(provinces)
    if lang not in LANGS:
        raise PublishError(f"The 'lang' parameter of publish must be one of {LANGS}; got {lang!r} instead.")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise PublishError(f"The 'workers' parameter of publish must be a positive integer; got {workers!r} instead.")
    if not data.is_dir():
        raise PublishError(f"The 'data_dir' parameter of publish must be a dataset folder; got {str(data)!r} instead.")
    config = load_reports_config(reports or REPORTS_CONFIG)
    out = (Path(out_dir) if out_dir is not None else resources.reports_dir()).resolve()
    out.mkdir(parents=True, exist_ok=True)
    target = out / date

    with _Lock(out):
        _recover(out)
        if target.exists() and not force:
            raise PublishError(f"{target} already exists; pass --force to replace it.")
        staging = out / f".staging-{date}-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        try:
            result = _publish_into(staging, target, data.resolve(), date, codes, config, lang,
                                   workers or os.cpu_count() or 1, scheduler, progress)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    result.seconds = time.perf_counter() - start
    return result


def _publish_into(staging: Path, target: Path, data: Path, date: str, codes: list[str],
                  config: dict[str, Any], lang: str, workers: int, scheduler: Any,
                  progress: bool) -> PublishResult:
    national, blocked, others = _prepare(staging, data, date, codes, lang, previous_dir=target.parent)
    _write_assets(staging)
    jobs = _jobs(staging, config, [c for c in codes if c not in blocked], data, date, lang)
    result = PublishResult(folder=target, as_of=date, others_blocked=others)
    stopped = [ProvinceOutcome(code, False, _blocked_text(len(found)), 0.0, found)
               for code, found in blocked.items()]
    with _progress(progress, len(jobs) + len(config["national"])) as tick:
        runner = _Runner(max(1, min(workers, len(jobs))), scheduler, tick)
        with runner:
            outcomes = sorted(runner.run(jobs) + stopped, key=lambda o: o.code)
            meta = {"as_of": date, "lang": lang, "provinces": codes}
            _write_national_cache(staging, national, outcomes, meta)
            nat_jobs = [{
                "code": "index",
                "params": {"province": "", "as_of": date, "data_dir": data_dir_parameter(data),
                           "out_dir": ".", "lang": lang},
                "items": [_item(staging, e, None, lang)],
                "cwd": str(staging),
            } for e in config["national"]]
            nat_outcomes = runner.run(nat_jobs)
    result.outcomes = outcomes
    bad = [o for o in nat_outcomes if not o.ok]
    result.index_ok = not bad
    result.index_error = "; ".join(o.error for o in bad)
    shutil.rmtree(staging / ".cache", ignore_errors=True)
    # the smallest plotly.js that draws every chart of the set (the full one until now)
    _write_assets(staging, chart_traces(sorted(staging.rglob("*.html"))))
    _move_into_place(staging, target)
    return result


class _progress:
    """A rich progress bar (or nothing); the context value is a ``tick(outcome)`` callable."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self.bar: Any = None

    def __enter__(self) -> Callable[[ProvinceOutcome], None]:
        if not self.enabled:
            return lambda outcome: None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(TextColumn("[bold]publish"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TextColumn("{task.description}"), transient=False)
        self.bar.start()
        task = self.bar.add_task("", total=self.total)

        def tick(outcome: ProvinceOutcome) -> None:
            mark = "ok" if outcome.ok else "FAILED"
            self.bar.update(task, advance=1, description=f"{outcome.code} {mark}")

        return tick

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def iter_published(folder: str | Path) -> Iterator[Path]:
    """Every file of a published set, sorted (for comparisons and checksums)."""
    root = Path(folder)
    yield from sorted(p for p in root.rglob("*") if p.is_file())
