"""The layout of an output folder ``OUT`` (DESIGN.md section 5).

``OUT/<date>/`` is a published set of that date; ``OUT/<date>/<code>/`` a province's published
cycle; ``OUT/<date>/<code>/notice/`` the province's public notice of that date, published
before its list (``evalkit notice``).  A province folder holding only its ``notice/`` is no
published cycle: the register neither verifies nor imports it, and a publish of that date
keeps it instead of refusing the date as published.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["DATE_DIR", "PROVINCE_DIR", "date_folders", "notice_only", "province_cycles"]

#: ``OUT/<date>/``: ``YYYY-MM-DD``.
DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: ``OUT/<date>/<code>/``: the two-digit province code.
PROVINCE_DIR = re.compile(r"^\d{2}$")


def date_folders(out: Path) -> list[Path]:
    """The ``OUT/<date>/`` folders, oldest first (none when ``out`` is not a folder)."""
    out = Path(out)
    return sorted(d for d in out.iterdir() if d.is_dir() and DATE_DIR.match(d.name)) if out.is_dir() else []


def notice_only(folder: Path) -> bool:
    """Whether the province folder ``folder`` holds its public notice and nothing else."""
    return (folder / "notice").is_dir() and all(p.name == "notice" for p in folder.iterdir())


def province_cycles(out: Path) -> list[Path]:
    """The published province cycles ``OUT/<date>/<code>/`` (not those holding only a notice), by
    date then code."""
    return [f for d in date_folders(out) for f in sorted(d.iterdir())
            if f.is_dir() and PROVINCE_DIR.match(f.name) and not notice_only(f)]  # fmt: skip
