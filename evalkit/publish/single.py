"""``evalkit run``: one province's cycle checked, recorded in the register and written.

* :func:`open_for_run`: the checks made before the evaluation (after the dataset is read) — the province's folder of
  that date exists only with ``force``, the register accepts the date (``force``/``backdate``,
  :func:`evalkit.evaluate.record.check_recordable`), ``--previous`` names the same province's
  folder of an earlier date that is its latest recorded cycle — and the open register.
* :func:`record_and_write`: the exports staged, the cycle recorded (one transaction) and stamped
  into ``provenance.json``, then the folder swapped in; a failure before the cycle is recorded
  records and replaces nothing, and a failure after it (the swap) is completed by running the
  same command again (the register recognises its cycle).

A failed run leaves no trace: no ``OUT/<date>/`` or ``OUT/`` it made, no empty register.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from evalkit.data.register import Register
from evalkit.errors import PublishError
from evalkit.evaluate.province import ProvinceResult, write_province
from evalkit.evaluate.record import check_recordable, record, stamp
from evalkit.layout import DATE_DIR, notice_only
from evalkit.publish.staging import no_trace, os_errors

__all__ = ["check_previous", "open_for_run", "record_and_write"]


@contextmanager
def open_for_run(register: str | Path | None, out_dir: Path, province: str, when: Any, *, force: bool = False,
                 backdate: bool = False, previous: Path | None = None) -> Iterator[Register]:
    """The register of a single-province run, once the run may go ahead (see the module); closed
    on exit.  If the block raises, the folders the run made (``OUT/<date>/``, ``OUT/``) are
    removed again and a register the run would have created is never made (it is opened
    ``lazy``): a failed run leaves no trace.

    Raises
    ------
    PublishError
        The folder exists without ``force``; ``previous`` is not valid; the output folder
        cannot be written.
    RegisterError
        The register refuses the date.
    """
    day = f"{when:%Y-%m-%d}"
    folder = Path(out_dir) / day / province
    # a folder holding only the province's public notice of that date is no published list: the
    # register then refuses the date as inside the notice period (check_recordable)
    listed = folder.exists() and not notice_only(folder)
    if listed and not force:
        raise PublishError(f"{folder} already exists; pass --force to replace it.")
    with no_trace(folder.parent):
        with os_errors(Path(out_dir)):
            folder.parent.mkdir(parents=True, exist_ok=True)  # a read-only or unusable output folder fails here
            reg = Register.open(register if register is not None else out_dir, lazy=True)
        try:
            check_recordable(reg, province, day, force=force, backdate=backdate, published=listed)
            if previous is not None:
                check_previous(previous, reg, province, day)
            yield reg
        finally:
            reg.close()


def check_previous(previous: Path, reg: Register, province: str, day: str) -> None:
    """``--previous``: ``OUT/<date>/<code>`` (or its ``decisions.csv``) of the same province, a
    date before ``day``, and the province's latest cycle before ``day`` in the register (the
    previous cycle is read from the register; the option only checks it)."""
    previous = Path(previous)
    folder = previous.parent if previous.name == "decisions.csv" else previous
    if not previous.exists():
        raise PublishError(f"--previous {previous} does not exist.")
    date = folder.parent.name
    if folder.name != province or not DATE_DIR.match(date):
        raise PublishError(f"--previous {previous} is not a published folder of province {province} "
                           f"(<out>/<date>/{province}); the previous cycle must be the same province's.")
    if date >= day:
        raise PublishError(f"--previous {previous} is dated {date}, not earlier than --as-of {day}.")
    last = reg.latest(province, day)
    if last is None or last.as_of != date:
        found = "none" if last is None else last.as_of
        raise PublishError(f"--previous {previous}: the register's latest cycle of province {province} before "
                           f"{day} is {found}, not {date}; the previous cycle is read from the register.")


def record_and_write(reg: Register, res: ProvinceResult, out_dir: Path, *, force: bool = False,
                     backdate: bool = False, warn: Callable[[str], Any] = print, lang: str = "zh") -> Path:
    """Stage the province's exports, record its cycle (one transaction) and write its id and hash
    into the staged ``provenance.json``, then swap the folder in; ``warn`` gets the register's
    warnings (a backdate; a cycle recorded by an earlier run of the same command whose files
    were not written, which this run completes instead of recording it again)."""

    recorded: list[str] = []

    def record_cycle(staged: Path) -> None:
        cycle, warnings = record(reg, res, force=force, backdate=backdate, complete=not force)
        recorded.append(f"cycle {cycle.id} ({res.code} {cycle.as_of})")
        for w in warnings:
            warn(w)
        stamp(res, staged, cycle)

    with os_errors(Path(out_dir), recorded):
        return write_province(res, out_dir, before_swap=record_cycle, lang=lang)
