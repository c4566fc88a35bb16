"""evalkit: evaluate education mobile apps and publish provincial recommended lists and
provider credit evaluations, as the 2019 Opinions of eight departments led by the Ministry of
Education require (教技函〔2019〕55号)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from evalkit.errors import DataError, EvalkitError, Problem, PublishError, RubricError

__version__ = "0.1.0"

__all__ = [
    "DataError",
    "EvalkitError",
    "Problem",
    "PublishError",
    "RubricError",
    "load_dataset",
    "load_rubric",
    "rank",
    "stats",
    "weights",
    "__version__",
]

_LAZY = {
    "load_dataset": ("evalkit.data.dataset", "load_dataset"),
    "load_rubric": ("evalkit.rubric.model", "load_rubric"),
    "stats": ("evalkit.mcda.stats", None),
    "weights": ("evalkit.mcda.weights", None),
    "rank": ("evalkit.mcda.rank", None),
}


def __getattr__(name: str) -> Any:  # lazy: keep `import evalkit` cheap for the CLI
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'evalkit' has no attribute {name!r}") from None
    mod = import_module(module)
    return mod if attr is None else getattr(mod, attr)
