"""One province's result and its files: the published exports, the private cache.

A :class:`ProvinceResult` (computed by :meth:`evalkit.evaluate.pipeline.NationalEvaluation.province`)
holds no personal data: complaints appear only as statistics.  Its published exports
(:func:`write_exports`, :func:`write_province`) go through :mod:`evalkit.data.exports`
(deterministic bytes, no live formulas); :func:`save` and :func:`load` keep it in a private
cache folder (parquet per frame and ``meta.json``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.data import exports
from evalkit.errors import PublishError
from evalkit.evaluate.credit_components import COMPONENT_COLUMNS
from evalkit.evaluate.credit_params import REASONS as CREDIT_REASONS
from evalkit.evaluate.credit_params import THRESHOLD_COLUMNS, params_from_profile
from evalkit.evaluate.reasons import reason_text
from evalkit.evaluate.sanction_notice import write_sanction_notices
from evalkit.evaluate.schools import ALERT_EXPORT, COUNTY_EXPORT, FINDING_EXPORT, SCHOOL_EXPORT

__all__ = [
    "CACHE_FORMAT",
    "CHANGES_EXPORT",
    "CREDIT_EXPORT",
    "CREDIT_HISTORY_EXPORT",
    "DECISIONS_EXPORT",
    "NEGATIVE_EXPORT",
    "OVERLAPS_EXPORT",
    "RECOMMENDED_EXPORT",
    "ProvinceResult",
    "blacklist_records",
    "load",
    "save",
    "write_exports",
    "write_province",
]

#: Bump when the cache layout changes (old caches are then recomputed).
CACHE_FORMAT = 3
#: Column order of decisions.csv.
DECISIONS_EXPORT = [
    "app_id", "app_name", "provider_id", "provider_name", "category", "stages", "status",
    "rank", "total_score", "legality", "function", "security", "content", "p_listed",
    "rank_lo", "rank_hi", "close_call", "flags", "change", "objection", "reasons", "reasons_zh", "reasons_en",
]  # fmt: skip
RECOMMENDED_EXPORT = [
    "rank", "app_id", "app_name", "provider_id", "provider_name", "legal_rep", "category",
    "stages", "total_score", "legality", "function", "security", "content", "listed_on", "flags",
]  # fmt: skip
CREDIT_EXPORT = [
    "provider_id", "provider_name", "score", *COMPONENT_COLUMNS, "grade", "downgrade",
    *THRESHOLD_COLUMNS, "list", "ban_until", "decided_on", "sanction_stage", "notified_on", "statement_ends_on",
    "proposed_list", "reasons", "reasons_zh", "reasons_en",
]  # fmt: skip
#: Column order of credit_history.csv (sorted by provider_id, on, recorded_on).
CREDIT_HISTORY_EXPORT = ["provider_id", "provider_name", "on", "from", "to", "reasons", "reasons_zh",
                         "reasons_en", "recorded_on"]  # fmt: skip
NEGATIVE_EXPORT = ["provider_id", "provider_name", "grade", "score", "decided_on", "reasons",
                   "reasons_zh", "reasons_en"]  # fmt: skip
CHANGES_EXPORT = ["app_id", "app_name", "change", "reason"]
OVERLAPS_EXPORT = ["app_id_a", "app_name_a", "app_id_b", "app_name_b", "similarity", "text_similarity"]
#: The frames of a result, one parquet file each in the cache.
_FRAMES = (
    "decisions", "recommended", "changes", "overlaps", "credit", "credit_history", "negative_list", "blacklist",
    "blacklist_apps", "complaint_stats", "risk", "agreement", "raters", "conflicts", "weights", "objections",
    "evidence", "waivers", "app_history",
    "schools", "school_findings", "school_alerts", "counties",
)  # fmt: skip


class _Computed:
    """A frame field of :class:`ProvinceResult` computed on first read: the pipeline gives the
    result a function instead of the frame (``<name>_from``), so what only the published pages
    show costs nothing in an evaluation that does not publish them.  Given a frame (a loaded
    result, a test), it is that frame; neither: an empty frame."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot, self.source = name, f"_{name}", f"{name}_from"

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return None  # the dataclass default: not given
        value = obj.__dict__.get(self.slot)
        if value is None:
            make = getattr(obj, self.source, None)
            value = make() if make is not None else pd.DataFrame()
            obj.__dict__[self.slot] = value
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = value


@dataclass
class ProvinceResult:
    """Everything one province's reports and exports show (see docs/architecture.md)."""

    code: str
    name_zh: str
    name_en: str
    as_of: pd.Timestamp
    profile: Any
    rubric_version: str
    decisions: pd.DataFrame
    recommended: pd.DataFrame
    changes: pd.DataFrame
    overlaps: pd.DataFrame
    credit: pd.DataFrame
    credit_history: pd.DataFrame
    negative_list: pd.DataFrame
    blacklist: pd.DataFrame
    blacklist_apps: pd.DataFrame
    complaint_stats: pd.DataFrame
    risk: pd.DataFrame
    risk_quality: dict[str, Any]
    agreement: pd.DataFrame
    raters: pd.DataFrame
    conflicts: pd.DataFrame
    weights: pd.DataFrame
    method: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)
    #: Each app's page (evalkit.evaluate.app_details): criterion evidence (computed on first read
    #: from ``evidence_from``: only the published pages show it), waivers in force, earlier
    #: cycles' decisions read from the register.
    evidence: pd.DataFrame = _Computed()  # type: ignore[assignment]
    waivers: pd.DataFrame = field(default_factory=pd.DataFrame)
    app_history: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the province's schools (issue 18, evalkit.evaluate.schools): empty without schools
    schools: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SCHOOL_EXPORT))
    school_findings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FINDING_EXPORT))
    school_alerts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ALERT_EXPORT))
    counties: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COUNTY_EXPORT))
    #: The objections bearing on this list with their outcomes (evalkit.evaluate.objections; no
    #: personal data: codes, dates and ids only).
    objections: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Computes ``evidence`` on its first read (set by the pipeline).
    evidence_from: Callable[[], pd.DataFrame] | None = field(default=None, repr=False, compare=False)

    def blacklist_records(self) -> dict[str, Any]:
        """The blacklist for the national credit information sharing platform (:func:`blacklist_records`)."""
        return blacklist_records(self)

    def write_exports(self, folder: str | Path, lang: str = "zh") -> list[Path]:
        """Write the province's published exports into ``folder`` (:func:`write_exports`)."""
        return write_exports(self, folder, lang)

    def save(self, folder: str | Path) -> Path:
        """Save to a private cache folder (:func:`save`)."""
        return save(self, folder)

    @classmethod
    def load(cls, folder: str | Path) -> ProvinceResult:
        """Load a result saved with :meth:`save` (:func:`load`)."""
        return load(folder)

    def _repr_html_(self) -> str:  # pragma: no cover - display only
        counts = self.decisions["status"].value_counts()
        head = (
            f"<p><b>{self.name_zh} ({self.code})</b> as of {self.as_of.date()}: "
            + ", ".join(f"{k} {int(v)}" for k, v in counts.items())
            + "</p>"
        )
        cols = ["rank", "app_id", "app_name", "provider_name", "total_score", "p_listed"]
        return head + self.recommended[cols].head(30).to_html(index=False, escape=True)


# ==========================================================================================
# published exports
# ==========================================================================================


def blacklist_records(result: ProvinceResult) -> dict[str, Any]:
    """The blacklist for the national credit information sharing platform (section (16))."""
    apps = result.blacklist_apps.sort_values(["provider_id", "app_id"], kind="stable")
    by_provider = {
        pid: exports.to_records(g[["app_id", "app_name"]], sort_by=["app_id"])
        for pid, g in apps.groupby("provider_id", sort=True)  # loop over blacklisted providers
    }
    entries = []
    for row in exports.to_records(result.blacklist, sort_by=["provider_id"]):
        codes = [c for c in str(row.get("reasons") or "").split(";") if c]
        entries.append(
            {
                "uscc": row["provider_id"],
                "name": row["provider_name"],
                "legal_representative": row["legal_rep"],
                "reason_codes": codes,
                "reasons_zh": [reason_text(c, "zh", registry=CREDIT_REASONS) for c in codes],
                "reasons_en": [reason_text(c, "en", registry=CREDIT_REASONS) for c in codes],
                "decided_on": row["decided_on"],
                "ban_until": row["ban_until"],
                "apps": by_provider.get(row["provider_id"], []),
            }
        )
    return {
        "format": "evalkit-blacklist/1",
        "province_code": result.code,
        "province_name_zh": result.name_zh,
        "province_name_en": result.name_en,
        "as_of": result.as_of.strftime("%Y-%m-%d"),
        "entries": entries,
    }


def _recommended_list(result: ProvinceResult, rec: pd.DataFrame, sort_by: list[str]) -> dict[str, Any]:
    return {
        "format": "evalkit-recommended-list/1",
        "province_code": result.code,
        "province_name_zh": result.name_zh,
        "province_name_en": result.name_en,
        "as_of": result.as_of.strftime("%Y-%m-%d"),
        "rubric_version": result.rubric_version,
        "apps": exports.to_records(rec, sort_by=sort_by),
    }


#: The sheet of ``recommended_list.xlsx``, in the set's language.
_SHEET = {"zh": "推荐名单", "en": "Recommended list"}


def write_exports(result: ProvinceResult, folder: str | Path, lang: str = "zh") -> list[Path]:
    """Write the province's published exports into ``folder`` (created if needed).

    Files: ``decisions.csv``, ``recommended_list.{csv,xlsx,json}``, ``credit.csv``,
    ``credit_history.csv``, ``negative_list.csv``, ``changes.csv``, ``overlaps.csv``, ``blacklist.json``,
    ``schools.csv``, ``school_findings.csv``, ``school_alerts.csv``, ``counties.csv`` and
    ``provenance.json`` — all through :mod:`evalkit.data.exports` (same result → same bytes) — and
    the sanction notices of the providers notified in the cycle; ``lang`` (the report set's) names
    the workbook's sheet and leads the notices.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    w: list[Path] = []
    dec_key = ["rank", "app_id"]
    w.append(exports.write_csv(result.decisions, folder / "decisions.csv", columns=DECISIONS_EXPORT, sort_by=dec_key))
    rec = result.recommended[RECOMMENDED_EXPORT]
    w.append(exports.write_csv(rec, folder / "recommended_list.csv", sort_by=dec_key))
    w.append(exports.write_xlsx(rec, folder / "recommended_list.xlsx", sort_by=dec_key, sheet_name=_SHEET[lang]))
    w.append(exports.write_json(_recommended_list(result, rec, dec_key), folder / "recommended_list.json"))
    w.append(exports.write_csv(result.credit, folder / "credit.csv", columns=CREDIT_EXPORT, sort_by=["provider_id"]))
    w.append(exports.write_csv(result.credit_history, folder / "credit_history.csv", columns=CREDIT_HISTORY_EXPORT,
                               sort_by=["provider_id", "on", "recorded_on"]))  # fmt: skip
    w.append(exports.write_csv(result.negative_list, folder / "negative_list.csv", columns=NEGATIVE_EXPORT,
                               sort_by=["provider_id"]))  # fmt: skip
    w.append(exports.write_csv(result.changes, folder / "changes.csv", columns=CHANGES_EXPORT,
                               sort_by=["change", "app_id"]))  # fmt: skip
    w.append(exports.write_csv(result.overlaps, folder / "overlaps.csv", columns=OVERLAPS_EXPORT,
                               sort_by=["app_id_a", "app_id_b"]))  # fmt: skip
    w.append(exports.write_json(blacklist_records(result), folder / "blacklist.json"))
    for frame, name, columns, key in (  # the schools (issue 18; docs/schools.md)
        (result.schools, "schools.csv", SCHOOL_EXPORT, ["school_id"]),
        (result.school_findings, "school_findings.csv", FINDING_EXPORT, ["school_id", "app_id", "finding"]),
        (result.school_alerts, "school_alerts.csv", ALERT_EXPORT, ["school_id", "app_id", "alert"]),
        (result.counties, "counties.csv", COUNTY_EXPORT, ["county_code"]),
    ):
        w.append(exports.write_csv(frame, folder / name, columns=columns, sort_by=key))
    w.append(exports.write_json(result.provenance, folder / "provenance.json"))
    p = params_from_profile(result.profile)  # the notices before a sanction (evalkit.evaluate.sanctions)
    w += write_sanction_notices(result, folder, p.ban_months, p.grey_months, lang)
    return w


def write_province(result: ProvinceResult, out_dir: str | Path,
                   before_swap: Callable[[Path], Any] | None = None, lang: str = "zh") -> Path:
    """Write a province's exports into ``<out>/<as_of>/<code>/`` via staging + atomic rename.

    The files are written into ``<out>/<as_of>/.staging-<code>-<pid>/`` and the folder is
    renamed into place only when complete; an existing province folder is first renamed
    aside and removed afterwards, so readers never see a half-written folder.
    ``before_swap`` (e.g. recording the cycle in the register) is called with the staged folder
    once it is complete, before anything is replaced; if it raises, nothing is.  The date's
    folder is removed again if this call made it and fails.
    """
    day = Path(out_dir) / result.as_of.strftime("%Y-%m-%d")
    made = not day.exists()
    day.mkdir(parents=True, exist_ok=True)
    final = day / result.code
    staging = day / f".staging-{result.code}-{os.getpid()}"
    old = day / f".old-{result.code}-{os.getpid()}"
    _recover_province(day, result.code)
    for leftover in (staging, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        write_exports(result, staging, lang)
        if before_swap is not None:
            before_swap(staging)
        if final.exists():
            os.replace(final, old)
        os.replace(staging, final)
    except BaseException:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not final.exists():
            os.replace(old, final)
        if made:
            with contextlib.suppress(OSError):
                day.rmdir()  # only if empty
        raise
    if old.exists():
        shutil.rmtree(old)
    return final


def _recover_province(day: Path, code: str) -> None:
    """Clean up after a killed write of province ``code`` into ``day``: the previous folder put
    back if the kill came between moving it aside and moving the new one in, then every
    ``.staging-<code>-<pid>`` and ``.old-<code>-<pid>`` of a process no longer running removed."""
    for path in sorted(day.glob(f".*-{code}-*")):
        kind, _, pid = path.name[1:].partition(f"-{code}-")
        if kind not in ("staging", "old") or not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        if kind == "old" and not (day / code).exists():
            os.replace(path, day / code)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


# ==========================================================================================
# the private cache
# ==========================================================================================


def save(result: ProvinceResult, folder: str | Path) -> Path:
    """Save to a private cache folder (parquet per frame + ``meta.json``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in _FRAMES:
        getattr(result, name).to_parquet(folder / f"{name}.parquet", index=False)
    typed = hasattr(result.profile, "model_dump")
    meta = {
        "cache_format": CACHE_FORMAT,
        "code": result.code,
        "name_zh": result.name_zh,
        "name_en": result.name_en,
        "as_of": result.as_of.strftime("%Y-%m-%d"),
        "profile": result.profile.model_dump(mode="json") if typed else result.profile,
        "profile_typed": typed,
        "rubric_version": result.rubric_version,
        "risk_quality": result.risk_quality,
        "method": result.method,
        "provenance": result.provenance,
    }
    exports.write_json(meta, folder / "meta.json")
    return folder


def load(folder: str | Path) -> ProvinceResult:
    """Load a result saved with :func:`save`."""
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise PublishError(f"No saved province result in {folder} (meta.json is missing).")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("cache_format") != CACHE_FORMAT:
        raise PublishError(f"The saved result in {folder} has an old cache format; recompute it.")
    frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in _FRAMES}
    profile = meta["profile"]
    if meta.get("profile_typed"):
        from evalkit.rubric import Profile

        profile = Profile.model_validate(profile)
    return ProvinceResult(
        code=meta["code"], name_zh=meta["name_zh"], name_en=meta["name_en"],
        as_of=pd.Timestamp(meta["as_of"]), profile=profile, rubric_version=meta["rubric_version"],
        risk_quality=meta["risk_quality"], method=meta["method"], provenance=meta["provenance"],
        **frames,
    )  # fmt: skip
