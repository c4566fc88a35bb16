"""evalkit: evaluate education mobile apps and publish provincial recommended lists and
provider credit evaluations, as the 2019 Opinions of eight departments led by the Ministry of
Education require (教技函〔2019〕55号)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module
from os import PathLike
from typing import TYPE_CHECKING, Any

from evalkit.errors import DataError, EvalkitError, Problem, PublishError, RubricError

if TYPE_CHECKING:
    from evalkit.data.dataset import Dataset



def _version() -> str:
    """The installed distribution's version (``pyproject.toml`` is its one source); a checkout
    put on ``sys.path`` without being installed reads ``pyproject.toml`` itself."""
    from importlib import metadata
    from pathlib import Path

    try:
        return metadata.version("evalkit")
    except metadata.PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, ValueError):
            return "0+unknown"


__version__ = _version()

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


def load_dataset(path: str | PathLike[str], *, as_of: object = None,
                 criteria: Iterable[str] | Callable[[], Iterable[str]] | None = None,
                 provinces: Iterable[str] | None = None) -> Dataset:
    """Load a dataset folder or .xlsx workbook (contract v1) and check all of it, criterion ids included.

    :func:`evalkit.data.dataset.load_dataset` with the criterion ids of the default rubric
    when ``criteria`` is None (when the default rubric cannot be loaded they are not checked,
    with a ``criteria_unchecked`` warning).  Parameters, result and errors are those of
    :func:`evalkit.data.dataset.load_dataset`.
    """
    from evalkit.data.dataset import load_dataset as load  # lazy: keep `import evalkit` cheap
    from evalkit.rubric import default_criterion_ids

    return load(path, as_of=as_of, provinces=provinces,
                criteria=default_criterion_ids if criteria is None else criteria)
