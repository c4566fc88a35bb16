"""Personal data from complaints never reaches a published file (issue 8, part 3).

Unique phone numbers, resident ID numbers, e-mail addresses, names and sentences are planted
in the ``contact`` and ``text`` of complaints in a copy of the sample
(tests/hostile/planted.py); the copy is published; then every byte of the published tree is
scanned: plain files, every member of every XLSX (and any other zip), executed notebooks,
with HTML entities, JSON ``\\uXXXX`` escapes and XML entities undone before searching.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hostile import planted

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape_json(text: str) -> str:
    return _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _views(name: str, data: bytes) -> Iterator[tuple[str, str]]:
    """Every readable view of one file's bytes (recursing into zip archives)."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from _views(f"{name}!{member}", zf.read(member))
        return
    if data[:4] == b"PAR1":
        frame = pd.read_parquet(io.BytesIO(data))
        yield name, frame.to_csv(index=False)
        return
    for enc in ("utf-8", "utf-16"):
        if enc == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            continue
        text = data.decode(enc, errors="ignore")
        yield name, text
        unescaped = _unescape_json(text)
        yield name, unescaped
        yield name, html.unescape(unescaped)
        yield name, html.unescape(html.unescape(unescaped))  # escaped twice (HTML in JSON)
        if name.endswith((".json", ".ipynb")):
            try:
                yield name, json.dumps(json.loads(text), ensure_ascii=False)
            except ValueError:
                pass


def scan_tree(root: Path, needles: list[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found anywhere under ``root`` (hidden files included)."""
    found: set[tuple[str, str]] = set()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = str(path.relative_to(root))
        for view_name, text in _views(rel, path.read_bytes()):
            squeezed = re.sub(r"[\s\-]", "", text)  # "159 0772 1000" counts as a leak too
            for needle in needles:
                if needle in text or (needle.isalnum() and needle in squeezed):
                    found.add((view_name, needle))
    return sorted(found)


# ----------------------------------------------------------------------------------------
# the scanner itself finds what it must (else a pass would prove nothing)


def test_scanner_finds_needles_in_xlsx_json_ipynb_and_html(tmp_path: Path) -> None:
    from evalkit.data import exports

    phone, email, phrase = planted.PHONES[0], planted.EMAILS[0], planted.PHRASES[0]
    exports.write_xlsx(pd.DataFrame({"a": [f"联系 {phone}"]}), tmp_path / "x.xlsx")
    (tmp_path / "n.ipynb").write_text(json.dumps({"cells": [{"source": email}]}), encoding="utf-8")
    (tmp_path / "p.html").write_text(f"<td>{html.escape(phrase).encode('ascii', 'xmlcharrefreplace').decode()}</td>",
                                     encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "s.txt").write_text("159 0772 1001", encoding="utf-8")
    hits = {needle for _, needle in scan_tree(tmp_path, planted.personal_needles())}
    assert hits == {phone, email, phrase, planted.PHONES[1]}


def test_planted_values_are_in_the_input(tmp_path_factory) -> None:
    data, info = planted.planted_data(tmp_path_factory)
    assert len(info["complaints"]) == planted.N_PLANTED
    hits = {needle for _, needle in scan_tree(data, planted.personal_needles())}
    assert hits == set(planted.personal_needles())
    import evalkit

    ds = evalkit.load_dataset(data, as_of=planted.AS_OF)  # the planted copy is valid input
    assert ds.complaints["contact"].str.contains(planted.PHONES[0], regex=False).any()


# ----------------------------------------------------------------------------------------
# nothing personal in memory results


@pytest.fixture(scope="module")
def planted_nat(tmp_path_factory):
    import evalkit
    from evalkit.evaluate import pipeline

    data, _ = planted.planted_data(tmp_path_factory)
    ds = evalkit.load_dataset(data, as_of=planted.AS_OF)
    return pipeline.evaluate(ds, planted.AS_OF, provinces=list(planted.PROVINCES))


def test_province_results_hold_no_personal_data(planted_nat) -> None:
    """Architecture: 'No personal data is ever in a ProvinceResult' (complaints only as stats)."""
    needles = planted.personal_needles()
    for code in planted.PROVINCES:
        res = planted_nat.province(code)
        for name, value in vars(res).items():
            if isinstance(value, pd.DataFrame):
                assert not {"contact", "text"} & set(map(str, value.columns)), (code, name)
                blob = value.to_csv(index=False)
            else:
                blob = json.dumps(value, ensure_ascii=False, default=str)
            leaks = [n for n in needles if n in blob]
            assert not leaks, f"{code}.{name} holds personal data: {leaks[:3]}"


def test_saved_cache_holds_no_personal_data(planted_nat, tmp_path: Path) -> None:
    """The private cache read by the notebooks (parquet + json) is clean too."""
    res = planted_nat.province(planted.PROVINCES[0])
    res.save(tmp_path / "cache")
    res.write_exports(tmp_path / "exports")
    assert scan_tree(tmp_path, planted.personal_needles()) == []


# ----------------------------------------------------------------------------------------
# the whole published tree


@pytest.mark.slow
def test_no_personal_data_in_any_published_byte(tmp_path_factory) -> None:
    folder, result = planted.planted_publish(tmp_path_factory)
    assert result.ok, (result.failed, [o.error for o in result.outcomes if not o.ok], result.index_error)
    files = [p for p in folder.rglob("*") if p.is_file()]
    suffixes = {p.suffix for p in files}
    # the scan covers every kind of published file, including notebooks and workbooks
    assert {".html", ".csv", ".xlsx", ".json", ".ipynb"} <= suffixes, suffixes
    leaks = scan_tree(folder.parent, planted.personal_needles())  # the whole output root
    assert leaks == [], f"{len(leaks)} leaks, e.g. {leaks[:5]}"


@pytest.mark.slow
def test_complaint_statistics_are_still_published(tmp_path_factory) -> None:
    """Guard against a vacuous pass: the reports do use the complaints (as statistics)."""
    folder, _ = planted.planted_publish(tmp_path_factory)
    credit = (folder / planted.PROVINCES[0] / "credit.html").read_text(encoding="utf-8")
    assert re.search(r"投诉|complaint", credit, re.IGNORECASE)
