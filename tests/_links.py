"""A link checker for a published set: every local ``href``/``src`` of every HTML file must
resolve to an existing file, and a ``#fragment`` to an element id of the target page.

Used by tests/test_transparency.py on the published sample.  Outside links (``http:``,
``https:``, ``mailto:``, ``data:``) are reported too: a published page never needs one.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append(value)


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        cache[path] = page
    return cache[path]


def broken_links(root: str | Path) -> list[str]:
    """``page: link (why)`` for every link of every ``*.html`` under ``root`` that does not resolve."""
    root = Path(root).resolve()
    cache: dict[Path, _Page] = {}
    problems = []
    for page_path in sorted(root.rglob("*.html")):
        page = _parse(page_path, cache)
        for link in page.links:
            parts = urlsplit(link)
            where = f"{page_path.relative_to(root)}: {link}"
            if parts.scheme or parts.netloc:
                problems.append(f"{where} (leaves the set)")
                continue
            target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
            if not target.is_file() or root not in target.parents:
                problems.append(f"{where} (no such file in the set)")
                continue
            if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target, cache).ids:
                problems.append(f"{where} (no element #{parts.fragment})")
    return problems


def count_links(root: str | Path) -> int:
    """How many links the set's pages hold (so a checker finding nothing is seen to have looked)."""
    cache: dict[Path, _Page] = {}
    return sum(len(_parse(p, cache).links) for p in Path(root).resolve().rglob("*.html"))
