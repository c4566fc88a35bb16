"""The ``evalkit`` command line.

Thin by design: each command parses its options, calls one function of the package, prints
problems as ``file:row:column: message`` and sets the exit code.  No traceback reaches a user:
every :class:`~evalkit.errors.EvalkitError` becomes a message and exit code 1.

One module per command (group), each registering itself on :data:`evalkit.cli.app.app`:
:mod:`~evalkit.cli.dataset` (validate, generate), :mod:`~evalkit.cli.rubric`,
:mod:`~evalkit.cli.run` (run, publish), :mod:`~evalkit.cli.register`,
:mod:`~evalkit.cli.template` (blank dataset templates) and :mod:`~evalkit.cli.init` (a province
workspace).
"""

from evalkit.cli import dataset, init, register, rubric, run, template  # noqa: F401  (each registers its commands)
from evalkit.cli.app import app, main

__all__ = ["app", "main"]
