"""A link checker for a published set: every local ``href``/``src`` of every HTML file must
resolve to an existing file, and a ``#fragment`` to an element id of the target page.

Used by tests/test_transparency.py on the published sample.  Outside links (``http:``,
``https:``, ``mailto:``, ``data:``) are reported too: a published page never needs one.

An app's details (``<code>/apps.html#app=<slug>``) are rendered from a data file, so for a link
to the viewer the checker opens the data file the viewer would load (``apps/<k>.js``, k from the
slug, ``evalkit.publish.app_pages.app_shard``) and requires the app in it; and it checks the
links the viewer builds from each data file (``href_*`` columns: the provider's credit entry,
the overlap partners) as if they stood on the viewer page.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.app_data: tuple[int, str] | None = None  # an app viewer: (data files, their folder)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append(value)
        found = dict(attrs)
        if found.get("data-app-shards"):
            self.app_data = (int(found["data-app-shards"] or 1), found.get("data-app-data") or "apps/")


def app_data(viewer: Path, k: int, folder: str) -> dict[str, list[dict[str, str]]]:
    """The tables of data file ``k`` of an app viewer, decoded like assets/apps.js does:
    ``{table: [{column: text}]}`` (each criteria row also given its app's ``slug``)."""
    text = (viewer.parent / folder / f"{k}.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("]=") + 2 : text.rindex(";")])
    out = {}
    for name, table in data.items():
        rows: list[dict[str, str]] = [{} for _ in range(table["n"])]
        for g in table["groups"]:
            values = g["dict"] if len(g["cols"]) > 1 else [[v] for v in g["dict"]]
            for r, code in zip(rows, g["codes"], strict=True):
                r.update(zip(g["cols"], values[code], strict=True))
        out[name] = rows
    slugs = [a["slug"] for a in out["apps"] for _ in range(int(a["n_criteria"]))]
    out["criteria"] = [{"slug": s, **r} for s, r in zip(slugs, out["criteria"], strict=True)]
    return out


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    if path not in cache:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        cache[path] = page
    return cache[path]


class _Apps:
    """The slugs of each app viewer's data files, read once."""

    def __init__(self) -> None:
        self.slugs: dict[tuple[Path, int], set[str]] = {}

    def has(self, viewer: Path, page: _Page, slug: str) -> bool:
        from evalkit.publish.app_pages import app_shard

        assert page.app_data is not None
        shards, folder = page.app_data
        try:
            k = app_shard(slug, shards)
        except ValueError:
            return False
        if (viewer, k) not in self.slugs:
            path = viewer.parent / folder / f"{k}.js"
            rows = app_data(viewer, k, folder)["apps"] if path.is_file() else []
            self.slugs[viewer, k] = {r["slug"] for r in rows}
        return slug in self.slugs[viewer, k]


def _data_links(viewer: Path, page: _Page) -> list[str]:
    """Every link the viewer builds from its data files (``href_*`` columns), and a problem for an
    app filed in the wrong data file."""
    from evalkit.publish.app_pages import app_shard

    assert page.app_data is not None
    shards, folder = page.app_data
    links = []
    for k in range(shards):
        for name, rows in app_data(viewer, k, folder).items():
            for r in rows:
                if name == "apps" and app_shard(r["slug"], shards) != k:
                    links.append(f"#app={r['slug']}")  # reported as missing where the viewer looks
                links += [v for c, v in r.items() if c.startswith("href_") and v]
    return links


def broken_links(root: str | Path) -> list[str]:
    """``page: link (why)`` for every link of every ``*.html`` under ``root`` that does not resolve."""
    root = Path(root).resolve()
    cache: dict[Path, _Page] = {}
    apps = _Apps()
    problems = []
    for page_path in sorted(root.rglob("*.html")):
        page = _parse(page_path, cache)
        links = page.links + (_data_links(page_path, page) if page.app_data else [])
        for link in links:
            problem = _check(root, page_path, link, cache, apps)
            if problem:
                problems.append(f"{page_path.relative_to(root)}: {link} ({problem})")
    return problems


def _check(root: Path, page_path: Path, link: str, cache: dict[Path, _Page], apps: _Apps) -> str:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return "leaves the set"
    target = page_path if not parts.path else (page_path.parent / unquote(parts.path)).resolve()
    if not target.is_file() or root not in target.parents:
        return "no such file in the set"
    if not parts.fragment or target.suffix != ".html":
        return ""
    fragment, page = unquote(parts.fragment), _parse(target, cache)
    if fragment.startswith("app=") and page.app_data:
        return "" if apps.has(target, page, fragment[4:]) else f"no app {fragment[4:]} in the viewer's data"
    return "" if fragment in page.ids else f"no element #{parts.fragment}"


def count_links(root: str | Path) -> int:
    """How many links the set's pages and app data files hold (so a checker finding nothing is
    seen to have looked)."""
    cache: dict[Path, _Page] = {}
    total = 0
    for p in Path(root).resolve().rglob("*.html"):
        page = _parse(p, cache)
        total += len(page.links) + (len(_data_links(p, page)) if page.app_data else 0)
    return total
