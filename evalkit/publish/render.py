"""In-process notebook execution with a reused kernel, and offline HTML export.

A :class:`NotebookRenderer` owns ONE Jupyter kernel (IPC transport, so parallel workers never
race for TCP ports) and executes notebook after notebook in it: the kernel's imports and the
first plotly call are paid once per worker, not once per report (measured in
benchmarks/README.md).  Between notebooks the kernel's namespace is cleared (``%reset -f``);
imported modules stay loaded, which is the point of the reuse.

Parameters are checked before execution: every report notebook declares exactly the five
parameters of :data:`REPORT_PARAMETERS` in one cell tagged ``parameters``; an unknown or a
missing parameter is an error (papermill itself only warns).

The executed notebook is saved without volatile metadata (no timestamps, execution counts
renumbered from 1) and converted in-process with nbconvert's ``basic`` template wrapped in
evalkit's own page (``evalkit/assets/page.html``): no code cells, no CDN reference, plotly.js
loaded from the report set's shared ``assets/plotly.min.js``.
"""

from __future__ import annotations

import atexit
import copy
import html
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from evalkit import resources
from evalkit.errors import PublishError

#: The parameters every report notebook declares, in order, with their Python types.
REPORT_PARAMETERS: dict[str, type] = {
    "province": str,
    "as_of": str,
    "data_dir": str,
    "out_dir": str,
    "lang": str,
}

_ASSETS = resources.assets_dir()
_VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "papermill")
_KERNEL_PRELUDE = "%reset -f\n"
#: Run once per kernel: the imports every report needs and a first (slow) plotly call.
_WARM = (
    "import evalkit.publish.report, evalkit.publish.cache, evalkit.evaluate.pipeline\n"
    "import plotly.graph_objects as _go\n"
    "_go.Figure(_go.Bar(x=[1], y=[1])).to_html(include_plotlyjs=False, full_html=False)\n"
    "del _go\n"
)


class RenderError(PublishError):
    """A notebook could not be rendered (bad parameters, or a cell raised)."""


@dataclass(frozen=True)
class Rendered:
    """What :meth:`NotebookRenderer.render` produced.

    Attributes
    ----------
    notebook : nbformat.NotebookNode
        The executed notebook, with volatile metadata stripped.
    html : str
        The standalone HTML page (empty when ``html_path`` was not requested).
    """

    notebook: Any
    html: str


# ----------------------------------------------------------------------------------------
# parameters


def notebook_parameters(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Return the parameters a notebook declares in its ``parameters`` cell.

    Parameters
    ----------
    path : path-like
        The notebook file.

    Returns
    -------
    dict
        ``{name: {"name", "inferred_type_name", "default", "help"}}`` as papermill's
        ``inspect_notebook`` gives it; empty if there is no ``parameters`` cell.
    """
    from papermill.inspection import inspect_notebook

    return inspect_notebook(str(path))


def check_parameters(
    path: str | os.PathLike[str], parameters: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Check ``parameters`` against what the notebook at ``path`` declares.

    Raises
    ------
    RenderError
        If the notebook has no ``parameters`` cell, or a parameter is unknown or missing.
    """
    declared = notebook_parameters(path)
    name = Path(path).name
    if not declared:
        raise RenderError(f"{name}: no cell tagged 'parameters' (or it declares nothing).")
    unknown = sorted(set(parameters) - set(declared))
    missing = sorted(set(declared) - set(parameters))
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(f"unknown parameter(s) {unknown}")
        if missing:
            parts.append(f"missing parameter(s) {missing}")
        raise RenderError(
            f"{name}: {' and '.join(parts)}; the notebook declares {sorted(declared)}."
        )
    return declared


# ----------------------------------------------------------------------------------------
# notebook post-processing


def strip_volatile(nb: Any) -> Any:
    """Remove what changes from run to run: timings, papermill metadata, execution counts.

    Execution counts are renumbered 1, 2, ... over the code cells, so a notebook executed in
    a reused kernel has the same bytes as one executed in a fresh kernel.
    """
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    count = 0
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is None:
            continue
        count += 1
        cell.execution_count = count
        for out in cell.outputs:
            if "execution_count" in out:
                out["execution_count"] = count
    return nb


def _drop_for_html(nb: Any) -> Any:
    """A copy of ``nb`` without what a reader should not see: printed streams, the parameter cells,
    cells tagged ``remove_cell``/``remove-cell``."""
    out = copy.deepcopy(nb)
    hidden = {"remove_cell", "remove-cell", "parameters", "injected-parameters"}
    cells = []
    for cell in out.cells:
        if hidden & set(cell.metadata.get("tags", ())):
            continue
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if o.output_type != "stream"
            ]
        cells.append(cell)
    out.cells = cells
    return out


_EXPORTER: Any = None


def _exporter() -> Any:
    global _EXPORTER
    if _EXPORTER is None:
        from nbconvert import HTMLExporter

        exp = HTMLExporter(template_name="basic")
        exp.exclude_input = True
        exp.exclude_input_prompt = True
        exp.exclude_output_prompt = True
        exp.require_js_url = ""
        exp.mathjax_url = ""
        exp.anchor_link_text = ""
        _EXPORTER = exp
    return _EXPORTER


def page(body: str, *, title: str, lang: str, plotly_src: str | None, assets: str = "") -> str:
    """Wrap an HTML fragment in evalkit's offline page (CSS and table JS inline).

    Parameters
    ----------
    body : str
        HTML fragment (already escaped where it holds data).
    title : str
        Page title (escaped here).
    lang : {"zh", "en"}
        Page language; ``zh`` becomes ``zh-CN``.
    plotly_src : str or None
        Relative URL of the shared ``plotly.min.js`` (empty or ``None``: none, a page without charts).
    assets : str
        Relative URL of the set's ``assets/`` folder: the page then links ``report.css`` and
        ``report.js`` there (written by ``assets.write_assets``) instead of inlining them.
    """
    template = (_ASSETS / "page.html").read_text(encoding="utf-8")
    if not plotly_src:  # a page without charts (an app's page) loads no plotly.js
        template = template.replace('<script src="{{plotly_src}}"></script>\n', "")
    elif lang == "zh":  # the toolbar in Chinese: plotly.js's zh-CN locale, inlined (nothing fetched)
        locale = (_ASSETS / "plotly-locale-zh-cn.js").read_text(encoding="utf-8")
        template = template.replace('<script src="{{plotly_src}}"></script>\n',
                                    '<script src="{{plotly_src}}"></script>\n<script>\n' + locale + "</script>\n")
    css = (_ASSETS / "report.css").read_text(encoding="utf-8")
    js = (_ASSETS / "report.js").read_text(encoding="utf-8")
    if assets:  # linked, not inlined
        base = html.escape(assets.rstrip("/"), quote=True)
        template = (template.replace("<style>\n{{css}}\n</style>", f'<link rel="stylesheet" href="{base}/report.css">')
                    .replace("<script>\n{{js}}\n</script>", f'<script src="{base}/report.js"></script>'))
    return (
        template.replace("{{lang}}", "zh-CN" if lang == "zh" else "en")
        .replace("{{title}}", html.escape(title))
        .replace("{{plotly_src}}", html.escape(plotly_src or "", quote=True))
        .replace("{{css}}", css)
        .replace("{{js}}", js)
        .replace("{{body}}", body)
    )


def notebook_to_html(nb: Any, *, title: str, lang: str, plotly_src: str) -> str:
    """Convert an executed notebook to a standalone offline page without code cells."""
    body, _ = _exporter().from_notebook_node(_drop_for_html(nb))
    return page(body, title=title, lang=lang, plotly_src=plotly_src)


# ----------------------------------------------------------------------------------------
# the renderer


class NotebookRenderer:
    """Execute notebooks one after another in one reused kernel.

    Parameters
    ----------
    kernel_name : str
        Kernel spec name (``python3``: the environment evalkit runs in).
    timeout : int
        Per-cell execution timeout in seconds.
    warm : str
        Code run once when the kernel starts (imports shared by every report).
    """

    def __init__(
        self,
        kernel_name: str = "python3",
        *,
        timeout: int = 600,
        warm: str = _WARM,
    ) -> None:
        from jupyter_client.manager import KernelManager

        self._tmp = tempfile.TemporaryDirectory(prefix="evalkit-kernel-")
        conn = os.path.join(self._tmp.name, "kernel.json")
        self.km = KernelManager(kernel_name=kernel_name, transport="ipc", connection_file=conn)
        self.timeout = timeout
        self._lock = threading.Lock()
        env = dict(os.environ)
        env.pop("PLOTLY_RENDERER", None)
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        self.km.start_kernel(cwd=self._tmp.name, env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        self.kc.allow_stdin = False
        self.n_rendered = 0
        if warm:
            self._run_quiet(warm)
        atexit.register(self.close)

    def _run_quiet(self, code: str) -> None:
        reply = self.kc.execute_interactive(code, store_history=False, timeout=self.timeout,
                                            output_hook=lambda msg: None)
        if reply["content"].get("status") != "ok":
            raise RenderError(f"kernel set-up failed: {reply['content'].get('evalue', '')}")

    def render(
        self,
        notebook: str | os.PathLike[str],
        parameters: Mapping[str, Any],
        *,
        ipynb_path: str | os.PathLike[str] | None = None,
        html_path: str | os.PathLike[str] | None = None,
        title: str = "",
        plotly_src: str = "assets/plotly.min.js",
        cwd: str | os.PathLike[str] | None = None,
    ) -> Rendered:
        """Execute ``notebook`` with ``parameters`` and write the executed notebook and HTML.

        Parameters
        ----------
        notebook : path-like
            The source notebook (never modified).
        parameters : mapping
            Exactly the notebook's declared parameters (else :class:`RenderError`).
        ipynb_path, html_path : path-like, optional
            Where to write the executed notebook and the HTML page.
        title : str
            HTML page title.
        plotly_src : str
            Relative URL of the shared plotly.js, from the HTML file's folder.
        cwd : path-like, optional
            The kernel's working directory while the notebook runs (relative ``out_dir`` and
            ``data_dir`` parameters are read from there); default the kernel's own empty
            folder.  Set outside the notebook, so it leaves no trace in the executed notebook.

        Raises
        ------
        RenderError
            Bad parameters, or a cell raised (the message names the notebook and the error).
        """
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
        from papermill.parameterize import parameterize_notebook

        path = Path(notebook)
        check_parameters(path, parameters)
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:  # papermill expects these keys (its loader adds them)
            cell.metadata.setdefault("tags", [])
        nb.metadata.setdefault("papermill", {})
        nb = parameterize_notebook(nb, dict(parameters), kernel_name=self.km.kernel_name,
                                   language="python")
        for cell in nb.cells:  # papermill gives the injected cell a random id: make it stable
            if "injected-parameters" in cell.metadata.get("tags", ()):
                cell.id = "injected-parameters"
        with self._lock:
            workdir = os.fspath(Path(cwd).resolve()) if cwd is not None else self._tmp.name
            self._run_quiet(_KERNEL_PRELUDE + f"import os as _os\n_os.chdir({workdir!r})\ndel _os\n")
            client = NotebookClient(
                nb, km=self.km, timeout=self.timeout, record_timing=False,
                kernel_name=self.km.kernel_name, allow_errors=False,
            )
            client.kc = self.kc
            try:
                client.execute(cleanup_kc=False)
            except CellExecutionError as exc:
                raise RenderError(f"{path.name} failed: {_short(exc)}") from exc
            finally:
                self.n_rendered += 1
        nb = strip_volatile(nb)
        lang = str(parameters.get("lang", "zh"))
        text = ""
        if ipynb_path is not None:
            Path(ipynb_path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
        if html_path is not None:
            text = notebook_to_html(nb, title=title or path.stem, lang=lang, plotly_src=plotly_src)
            Path(html_path).write_text(text, encoding="utf-8")
        return Rendered(notebook=nb, html=text)

    def close(self) -> None:
        """Shut the kernel down (also registered with :mod:`atexit`)."""
        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        except Exception:  # pragma: no cover - best effort at exit
            pass
        finally:
            self.kc = None
            self._tmp.cleanup()
            atexit.unregister(self.close)

    def __enter__(self) -> NotebookRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _short(exc: Exception) -> str:
    """The last line of a cell error (``ValueError: ...``), without ANSI colour codes."""
    import re

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__
