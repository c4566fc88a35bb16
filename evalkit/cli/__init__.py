"""The ``evalkit`` command line.

Thin by design: each command parses its options, calls one function of the package, prints
problems as ``file:row:column: message`` and sets the exit code.  No traceback reaches a user:
every :class:`~evalkit.errors.EvalkitError` becomes a message and exit code 1.

One module per command (group), each registering itself on :data:`evalkit.cli.app.app`:
:mod:`~evalkit.cli.dataset` (validate, generate), :mod:`~evalkit.cli.rubric`,
:mod:`~evalkit.cli.run` (run, publish), :mod:`~evalkit.cli.notice` and :mod:`~evalkit.cli.register`.
"""

from evalkit.cli import dataset, notice, register, rubric, run  # noqa: F401  (each registers its commands)
from evalkit.cli.app import app, main

__all__ = ["app", "main"]
