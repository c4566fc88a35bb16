"""The ``evalkit`` command line.

Thin by design: each command parses its options, calls one function of the package, prints
problems as ``file:row:column: message`` and sets the exit code.  No traceback reaches a user:
every :class:`~evalkit.errors.EvalkitError` becomes a message and exit code 1.

One module per command (group), each registering itself on :data:`evalkit.cli.app.app`:
:mod:`~evalkit.cli.dataset` (validate, generate), :mod:`~evalkit.cli.rubric`,
:mod:`~evalkit.cli.run` (run, publish), :mod:`~evalkit.cli.notice` (public notice), :mod:`~evalkit.cli.register`,
:mod:`~evalkit.cli.template` (blank dataset templates), :mod:`~evalkit.cli.init` (a province
workspace), :mod:`~evalkit.cli.panel` (expert panels' score sheets and rounds) and
:mod:`~evalkit.cli.explore` (the explorer served with Voilà).
"""

from evalkit.cli import (  # noqa: F401  (each registers its commands)
    dataset,
    explore,
    init,
    notice,
    panel,
    register,
    rubric,
    run,
    template,
)
from evalkit.cli.app import app, main

__all__ = ["app", "main"]
