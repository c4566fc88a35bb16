"""Render jobs and the workers that run them: local processes or a Dask cluster.

A render job is a plain ``dict`` (it travels to other processes): ``code``, ``params`` (the five
notebook parameters), ``cwd`` (the kernel's working directory, the staging folder) and
``items`` (each with ``notebook``, ``ipynb``, ``html``, ``title``, ``plotly_src``).  The jobs
get stable parameters, so the same command gives the same notebook bytes: ``out_dir`` is
relative to the published set (``44``) and the kernel works in the staging folder, where the
private cache ``.cache/`` is found; no server path reaches a notebook.

Every worker process owns ONE Jupyter kernel (:class:`~evalkit.publish.render.NotebookRenderer`),
started by the pool initializer (or the Dask worker plugin) and reused across jobs.
:func:`render_job` and :class:`KernelPlugin` are top-level names: process pools and Dask
pickle them by module path.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.data.identifiers import PROVINCES
from evalkit.errors import Problem
from evalkit.i18n import t
from evalkit.publish.assets import PLOTLY_ASSET
from evalkit.publish.staging import inside

__all__ = [
    "KernelPlugin",
    "ProgressBar",
    "ProvinceOutcome",
    "Runner",
    "data_dir_parameter",
    "national_jobs",
    "province_jobs",
    "render_job",
]


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


# ----------------------------------------------------------------------------------------
# render jobs


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


def _title(entry: dict[str, Any], code: str | None, lang: str) -> str:
    key = entry.get("title") or entry["name"]
    if code is None:
        return t(key, lang)
    p = PROVINCES[code]
    return t(key, lang, name=p.name_zh if lang == "zh" else p.name_en)


def _item(staging: Path, entry: dict[str, Any], code: str | None, lang: str) -> dict[str, Any]:
    """One notebook to render: output paths checked to stay inside ``staging``."""
    where = f"reports.yaml: {entry['name']}"
    fmt = {"code": code or ""}
    html_path = inside(staging, staging / entry["html"].format(**fmt), f"{where}.html")
    ipynb_path = inside(staging, staging / entry["ipynb"].format(**fmt), f"{where}.ipynb")
    return {
        "notebook": entry["notebook"],
        "html": str(html_path),
        "ipynb": str(ipynb_path),
        "title": _title(entry, code, lang),
        "plotly_src": Path(os.path.relpath(staging / PLOTLY_ASSET, html_path.parent)).as_posix(),
    }


def province_jobs(staging: Path, config: dict[str, Any], codes: list[str], data_dir: Path,
                  as_of: str, lang: str) -> list[dict[str, Any]]:
    """One render job per province: the ``province`` notebooks of ``config`` meant for it."""
    jobs = []
    data_param = data_dir_parameter(data_dir)
    for code in codes:  # provinces
        items = [_item(staging, entry, code, lang) for entry in config["province"]
                 if code in entry["provinces"]]
        params = {"province": code, "as_of": as_of, "data_dir": data_param,
                  "out_dir": code, "lang": lang}
        jobs.append({"code": code, "params": params, "items": items, "cwd": str(staging)})
    return jobs


def national_jobs(staging: Path, config: dict[str, Any], data_dir: Path, as_of: str,
                  lang: str) -> list[dict[str, Any]]:
    """One render job (code ``index``) per ``national`` notebook of ``config``."""
    params = {"province": "", "as_of": as_of, "data_dir": data_dir_parameter(data_dir),
              "out_dir": ".", "lang": lang}
    return [{"code": "index", "params": dict(params), "items": [_item(staging, entry, None, lang)],
             "cwd": str(staging)} for entry in config["national"]]


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


class Runner:
    """Runs render jobs on one pool for the whole publish: local processes or a Dask cluster.

    Local: a ``ProcessPoolExecutor`` (spawn) whose initializer starts ONE kernel per worker;
    the same workers (and kernels) serve the province jobs and the national index.  With a
    ``scheduler`` (an address or a ``distributed.Client``) the jobs run on its workers.
    """

    def __init__(self, workers: int, scheduler: Any, tick: Callable[[ProvinceOutcome], None]) -> None:
        self.workers, self.scheduler, self.tick = workers, scheduler, tick
        self.pool: Any = None
        self.client: Any = None
        self.owns_client = False

    def __enter__(self) -> Runner:
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
        """Run ``jobs`` (in parallel); one outcome per job, in the order they finish."""
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


class ProgressBar:
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
