"""Serve the panel explorer (``notebooks/explorer.ipynb``) as a web page with Voilà.

``serve(...)`` checks the dataset for the province first (a notebook that fails in Voilà only
spins in the browser), hands the options to the notebook's kernel through the environment
(``EVALKIT_EXPLORE_PROVINCE``, ``_DATA``, ``_AS_OF``, ``_OUT``, ``_LANG``, ``_OVERLAY`` (a workspace's
profiles): the kernel inherits
the server's environment) and runs Voilà in this process until Ctrl-C or SIGTERM, which stop it
and its kernels.  Voilà hides every code cell (``strip_sources``); it listens on 127.0.0.1 only,
refuses a busy port instead of moving to another one, gives a kernel 30 s to start and culls
kernels idle for an hour (closed tabs otherwise leave them running).  See TECH-NOTES, Voilà.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from evalkit import resources
from evalkit.errors import PublishError

__all__ = ["ENV", "check_voila", "serve", "voila_arguments"]

ENV = {"province": "EVALKIT_EXPLORE_PROVINCE", "data": "EVALKIT_EXPLORE_DATA", "as_of": "EVALKIT_EXPLORE_AS_OF",
       "out": "EVALKIT_EXPLORE_OUT", "lang": "EVALKIT_EXPLORE_LANG", "overlay": "EVALKIT_EXPLORE_OVERLAY"}


def check_voila() -> None:
    """Raise :class:`PublishError` with the install command when Voilà cannot be imported."""
    try:
        import voila.app  # noqa: F401
    except ImportError as exc:
        raise PublishError(f"Voilà is needed to serve the explorer and could not be imported ({exc}); "
                           "install it with: pip install 'voila>=0.5.13'") from None


def voila_arguments(port: int, browser: bool) -> list[str]:
    """The Voilà command-line arguments of :func:`serve` (the notebook first)."""
    return [
        str(resources.notebooks_dir() / "explorer.ipynb"),
        "--Voila.ip=127.0.0.1", f"--Voila.port={int(port)}", "--Voila.port_retries=0",
        "--VoilaConfiguration.strip_sources=True", "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaExecutor.startup_timeout=30",
        "--MappingKernelManager.cull_idle_timeout=3600", "--MappingKernelManager.cull_interval=300",
        f"--Voila.open_browser={bool(browser)}",
    ]


def _check_port(port: int) -> None:
    """Refuse a port another program listens on (Voilà would only log it)."""
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", int(port)))
        except OSError as exc:
            raise PublishError(f"the explorer cannot listen on 127.0.0.1:{port} ({exc.strerror or exc}); "
                               "choose another --port") from None


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(province: str, data_dir: str | Path, as_of: str, *, port: int = 8866, browser: bool = True,
          out_dir: str | Path | None = None, lang: str = "zh", overlay: str | Path | None = None) -> None:
    """Check the province's data, then serve the explorer until interrupted.

    Raises
    ------
    DataError
        The rows the province needs have errors (every one listed).
    PublishError
        Voilà is not installed, or its server cannot start (a busy port).
    """
    from evalkit.data.dataset import load_dataset
    from evalkit.rubric import default_criterion_ids

    check_voila()
    _check_port(port)
    load_dataset(data_dir, as_of=as_of, provinces=[str(province)], criteria=default_criterion_ids)
    values = {"province": str(province), "data": str(Path(data_dir).resolve()), "as_of": str(as_of),
              "out": str(Path(out_dir).resolve()) if out_dir else "", "lang": lang,
              "overlay": str(Path(overlay).resolve()) if overlay else ""}
    os.environ.update({ENV[k]: v for k, v in values.items()})
    # the kernel runs in the notebook's folder: relative entries of PYTHONPATH would point elsewhere
    if os.environ.get("PYTHONPATH"):
        os.environ["PYTHONPATH"] = os.pathsep.join(str(Path(p).resolve()) for p in
                                                   os.environ["PYTHONPATH"].split(os.pathsep) if p)
    from voila.app import Voila

    app = Voila.instance()
    app.initialize(voila_arguments(port, browser))
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        app.start()  # Voilà stops itself and its kernels on KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
