"""The pipeline: one national evaluation, sliced per province.

:func:`evaluate` computes everything that does not depend on a province's profile **once** for
the whole country — panel aggregation and scoring (one vectorised pass, :mod:`evalkit.evaluate.scoring`),
overlap detection (:mod:`evalkit.evaluate.overlap`), the early-warning model (:mod:`evalkit.evaluate.risk`) and
the hashes of every input — and :meth:`NationalEvaluation.province` then derives a province's
credit evaluation, recommended list and changes from it (computed on first use, then kept).

A :class:`ProvinceResult` holds no personal data: complaints appear only as statistics, and the
exports it writes go through :mod:`evalkit.data.exports` (deterministic bytes, no live formulas).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit import __version__

from evalkit.data import exports

from evalkit import resources
from evalkit.evaluate import credit as _credit
from evalkit.dates import parse_date
from evalkit.errors import DataError, EvalkitError, Problem, PublishError
from evalkit.evaluate.changes import diff_with_previous
from evalkit.evaluate.raters import rater_bootstrap
from evalkit.evaluate.reasons import reason_text, reasons_text
from evalkit.evaluate.recommend import ListRules, recommend

__all__ = [
    "CACHE_FORMAT",
    "DECISIONS_EXPORT",
    "NationalEvaluation",
    "ProvinceResult",
    "evaluate",
    "find_previous",
    "province_result",
    "write_province",
]

#: Bump when the cache layout changes (old caches are then recomputed).
CACHE_FORMAT = 2
#: Column order of decisions.csv.
DECISIONS_EXPORT = [
    "app_id", "app_name", "provider_id", "provider_name", "category", "stages", "status",
    "rank", "total_score", "legality", "function", "security", "content", "p_listed",
    "rank_lo", "rank_hi", "close_call", "flags", "change", "reasons", "reasons_zh", "reasons_en",
]  # fmt: skip
RECOMMENDED_EXPORT = [
    "rank", "app_id", "app_name", "provider_id", "provider_name", "legal_rep", "category",
    "stages", "total_score", "legality", "function", "security", "content", "listed_on", "flags",
]  # fmt: skip
CREDIT_EXPORT = [
    "provider_id", "provider_name", "score", *_credit.COMPONENT_COLUMNS, "grade", "downgrade",
    *_credit.THRESHOLD_COLUMNS, "list", "ban_until", "decided_on", "reasons", "reasons_zh", "reasons_en",
]  # fmt: skip
#: Column order of credit_history.csv (sorted by provider_id, on, recorded_on).
CREDIT_HISTORY_EXPORT = ["provider_id", "provider_name", "on", "from", "to", "reasons", "reasons_zh",
                         "reasons_en", "recorded_on"]  # fmt: skip
NEGATIVE_EXPORT = ["provider_id", "provider_name", "grade", "score", "decided_on", "reasons",
                   "reasons_zh", "reasons_en"]  # fmt: skip
CHANGES_EXPORT = ["app_id", "app_name", "change", "reason"]
OVERLAPS_EXPORT = ["app_id_a", "app_name_a", "app_id_b", "app_name_b", "similarity", "text_similarity"]
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FRAMES = (
    "decisions", "recommended", "changes", "overlaps", "credit", "credit_history", "negative_list", "blacklist",
    "blacklist_apps", "complaint_stats", "risk", "agreement", "raters", "conflicts", "weights",
)  # fmt: skip


# ==========================================================================================
# ProvinceResult
# ==========================================================================================


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

    # --- exports --------------------------------------------------------------------------

    def blacklist_records(self) -> dict[str, Any]:
        """The blacklist for the national credit information sharing platform (section (16))."""
        from evalkit.evaluate.credit import REASONS as CREDIT_REASONS
        apps = self.blacklist_apps.sort_values(["provider_id", "app_id"], kind="stable")
        by_provider = {
            pid: exports.to_records(g[["app_id", "app_name"]], sort_by=["app_id"])
            for pid, g in apps.groupby("provider_id", sort=True)  # loop over blacklisted providers
        }
        entries = []
        for row in exports.to_records(self.blacklist, sort_by=["provider_id"]):
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
            "province_code": self.code,
            "province_name_zh": self.name_zh,
            "province_name_en": self.name_en,
            "as_of": self.as_of.strftime("%Y-%m-%d"),
            "entries": entries,
        }

    def write_exports(self, folder: str | Path) -> list[Path]:
        """Write the province's published exports into ``folder`` (created if needed).

        Files: ``decisions.csv``, ``recommended_list.{csv,xlsx,json}``, ``credit.csv``,
        ``credit_history.csv``, ``negative_list.csv``, ``changes.csv``, ``overlaps.csv``, ``blacklist.json`` and
        ``provenance.json`` — all through :mod:`evalkit.data.exports` (same result → same bytes).
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        w: list[Path] = []
        dec_key = ["rank", "app_id"]
        w.append(exports.write_csv(self.decisions, folder / "decisions.csv", columns=DECISIONS_EXPORT, sort_by=dec_key))
        rec = self.recommended[RECOMMENDED_EXPORT]
        w.append(exports.write_csv(rec, folder / "recommended_list.csv", sort_by=dec_key))
        w.append(exports.write_xlsx(rec, folder / "recommended_list.xlsx", sort_by=dec_key, sheet_name="推荐名单"))
        w.append(
            exports.write_json(
                {
                    "format": "evalkit-recommended-list/1",
                    "province_code": self.code,
                    "province_name_zh": self.name_zh,
                    "province_name_en": self.name_en,
                    "as_of": self.as_of.strftime("%Y-%m-%d"),
                    "rubric_version": self.rubric_version,
                    "apps": exports.to_records(rec, sort_by=dec_key),
                },
                folder / "recommended_list.json",
            )
        )
        w.append(exports.write_csv(self.credit, folder / "credit.csv", columns=CREDIT_EXPORT, sort_by=["provider_id"]))
        w.append(exports.write_csv(self.credit_history, folder / "credit_history.csv", columns=CREDIT_HISTORY_EXPORT,
                                   sort_by=["provider_id", "on", "recorded_on"]))  # fmt: skip
        w.append(exports.write_csv(self.negative_list, folder / "negative_list.csv", columns=NEGATIVE_EXPORT,
                                   sort_by=["provider_id"]))  # fmt: skip
        w.append(exports.write_csv(self.changes, folder / "changes.csv", columns=CHANGES_EXPORT,
                                   sort_by=["change", "app_id"]))  # fmt: skip
        w.append(exports.write_csv(self.overlaps, folder / "overlaps.csv", columns=OVERLAPS_EXPORT,
                                   sort_by=["app_id_a", "app_id_b"]))  # fmt: skip
        w.append(exports.write_json(self.blacklist_records(), folder / "blacklist.json"))
        w.append(exports.write_json(self.provenance, folder / "provenance.json"))
        return w

    # --- cache ----------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Save to a private cache folder (parquet per frame + ``meta.json``)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FRAMES:
            getattr(self, name).to_parquet(folder / f"{name}.parquet", index=False)
        profile = self.profile.model_dump(mode="json") if hasattr(self.profile, "model_dump") else self.profile
        meta = {
            "cache_format": CACHE_FORMAT,
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "as_of": self.as_of.strftime("%Y-%m-%d"),
            "profile": profile,
            "profile_typed": hasattr(self.profile, "model_dump"),
            "rubric_version": self.rubric_version,
            "risk_quality": self.risk_quality,
            "method": self.method,
            "provenance": self.provenance,
        }
        exports.write_json(meta, folder / "meta.json")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> ProvinceResult:
        """Load a result saved with :meth:`save`."""
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
        return cls(
            code=meta["code"], name_zh=meta["name_zh"], name_en=meta["name_en"],
            as_of=pd.Timestamp(meta["as_of"]), profile=profile, rubric_version=meta["rubric_version"],
            risk_quality=meta["risk_quality"], method=meta["method"], provenance=meta["provenance"],
            **frames,
        )  # fmt: skip

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
# NationalEvaluation
# ==========================================================================================


def find_previous(out_dir: str | Path | None, code: str, as_of: Any) -> Path | None:
    """The latest earlier published province folder ``<out>/<date>/<code>/`` (date < as_of)."""
    if out_dir is None:
        return None
    root = Path(out_dir)
    if not root.is_dir():
        return None
    day = parse_date(as_of, func="find_previous").strftime("%Y-%m-%d")
    dates = sorted(
        d.name for d in root.iterdir()
        if d.is_dir() and _DATE_DIR.match(d.name) and d.name < day and (d / code / "decisions.csv").is_file()
    )  # fmt: skip
    return root / dates[-1] / code if dates else None


def _read_export(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _hash_tree(root: Path, suffixes: tuple[str, ...] = (".yaml", ".yml", ".csv", ".json")) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): exports.file_sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix.lower() in suffixes and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }  # fmt: skip


def _input_hashes(ds: Any) -> dict[str, str]:
    """sha256 of every input file read, by name (``apps.csv``) or, for a partitioned table,
    by path relative to the dataset folder (``apps/province=44/part-0.parquet``): exactly the
    part files the load read (its ``provinces``), sorted."""
    from evalkit.data.partition import part_files

    provinces = getattr(ds, "provinces", None)
    out: dict[str, str] = {}
    for path in map(Path, (getattr(ds, "files", {}) or {}).values()):  # tables
        if path.is_dir():
            for part in part_files(path, provinces):
                out[part.relative_to(path.parent).as_posix()] = exports.file_sha256(part)
        else:
            out[path.name] = exports.file_sha256(path)
    return dict(sorted(out.items()))


def _data_hashes(data_dir: Path, province: str) -> dict[str, str]:
    """sha256 of the data files a single-province run reads: every flat file, and only the
    ``province=<code>`` part files of a partitioned table (other provinces' changes do not
    touch its result)."""
    from evalkit.data.partition import PARTITION_KEY

    prefix, own = f"{PARTITION_KEY}=", f"{PARTITION_KEY}={province}"
    tree = {}
    for p in sorted(data_dir.rglob("*")):
        rel = p.relative_to(data_dir).parts
        if (not p.is_file() or p.suffix.lower() not in (".csv", ".parquet")
                or any(part.startswith(".") for part in rel)
                or any(part.startswith(prefix) and part != own for part in rel)):
            continue
        tree[p.relative_to(data_dir).as_posix()] = exports.file_sha256(p)
    return tree


def _profile_params(profile: Any) -> Any:
    return profile.model_dump(mode="json") if hasattr(profile, "model_dump") else profile


@dataclass
class NationalEvaluation:
    """The national evaluation, computed once; :meth:`province` slices it."""

    ds: Any
    as_of: pd.Timestamp
    rubric: Any
    profiles: dict[str, Any]
    scoring: Any
    candidates: pd.DataFrame
    overlaps: pd.DataFrame
    risk: Any
    rubric_root: Path | None
    previous_dir: Path | None = None
    previous: dict[str, Path] = field(default_factory=dict)
    input_hashes: dict[str, str] = field(default_factory=dict)
    rubric_hashes: dict[str, str] = field(default_factory=dict)
    #: Final-round rater scores per panel (:func:`evalkit.evaluate.panel.rater_matrix`) for the rater
    #: bootstrap of the robustness analysis; None when no profile asks for it.
    raters: Any = None
    _cache: dict[str, ProvinceResult] = field(default_factory=dict, repr=False)

    @property
    def provinces(self) -> tuple[str, ...]:
        """The province codes evaluated (sorted)."""
        return tuple(sorted(self.profiles))

    def province(self, code: str) -> ProvinceResult:
        """The result of province ``code`` (computed on first use)."""
        code = str(code)
        if code not in self.profiles:
            raise PublishError(
                f"The 'code' parameter of NationalEvaluation.province must be one of the evaluated "
                f"provinces {list(self.provinces)}; got {code!r} instead."
            )
        if code not in self._cache:
            self._cache[code] = _province(self, code)
        return self._cache[code]


def _dimension_weights(rubric: Any) -> dict[str, float]:
    return {d.id: float(d.weight) for d in rubric.dimensions}


def _candidate_frame(ds: Any, ev: Any) -> pd.DataFrame:
    """Scored candidates joined with the app, submission and provider fields the list needs."""
    cand = ev.candidates.copy()
    cand["province_code"] = cand["province_code"].astype("str")
    cand["app_id"] = cand["app_id"].astype("str")
    apps = ds.apps[["app_id", "name", "category", "stages", "primary_users", "features", "description",
                    "filed_on"]].rename(columns={"name": "_app_name"})  # fmt: skip
    apps = apps.astype({"app_id": "str"}).drop_duplicates("app_id")
    subs = ds.submissions[["app_id", "province_code", "submitted_on", "mandated_use"]].astype(
        {"app_id": "str", "province_code": "str"}
    )
    subs = subs.sort_values("submitted_on", kind="stable").drop_duplicates(["province_code", "app_id"], keep="last")
    prov = ds.providers[["provider_id", "name", "legal_rep"]].rename(columns={"name": "provider_name"})
    prov = prov.astype({"provider_id": "str"}).drop_duplicates("provider_id")
    cand = cand.drop(columns=[c for c in ("submitted_on", "mandated_use", "category", "stages", "features",
                                           "primary_users", "description", "filed_on", "provider_name",
                                           "legal_rep") if c in cand.columns])  # fmt: skip
    cand = cand.merge(apps, on="app_id", how="left").merge(subs, on=["province_code", "app_id"], how="left")
    cand["provider_id"] = cand["provider_id"].astype("str")
    cand = cand.merge(prov, on="provider_id", how="left")
    if "app_name" not in cand.columns:
        cand["app_name"] = cand["_app_name"]
    cand["app_name"] = cand["app_name"].fillna(cand["_app_name"]).astype("str")
    cand = cand.drop(columns="_app_name")
    for col in ("reasons", "stages", "features", "primary_users", "description", "category", "provider_name", "legal_rep"):
        cand[col] = cand[col].astype("str").fillna("") if col in cand.columns else ""
    return cand


def evaluate(
    ds: Any,
    as_of: Any,
    *,
    rubric_dir: str | Path | None = None,
    provinces: Iterable[str] | None = None,
    previous_dir: str | Path | None = None,
    previous: Mapping[str, str | Path] | None = None,
) -> NationalEvaluation:
    """Compute the national evaluation once.

    Parameters
    ----------
    ds : Dataset
        From :func:`evalkit.load_dataset`.
    as_of : date
        The evaluation date.
    rubric_dir : str or Path, optional
        The rubrics folder (rubric versions + ``profiles/``); default: the shipped rubrics.
    provinces : iterable of str, optional
        Province codes to prepare (default: every province with submissions).
    previous_dir : str or Path, optional
        The published output root (e.g. ``reports/``): each province compares with its latest
        earlier run found there (see :func:`find_previous`).
    previous : mapping, optional
        ``code -> folder or decisions.csv`` overriding ``previous_dir`` for some provinces.

    Returns
    -------
    NationalEvaluation
    """
    from evalkit.evaluate import overlap
    from evalkit.evaluate import risk
    from evalkit.evaluate import scoring
    from evalkit import rubric as _rubric

    when = parse_date(as_of, func="pipeline.evaluate")
    rub = _rubric.load_rubric(rubric_dir)
    root = _rubric.rubrics_root(rubric_dir)
    subs_codes = sorted(set(ds.submissions["province_code"].astype("str")))
    codes = subs_codes if provinces is None else sorted({str(c) for c in provinces})
    profiles = _rubric.load_profiles(codes, rubric_dir, rubric=rub)
    # each province is weighted by its own experts' judgments (national fallback per level;
    # invalid judgments fall back with the reason in the province's method section)
    ev = scoring.evaluate(ds, rub, profiles, when, weights_from_dataset=True)
    cand = _candidate_frame(ds, ev)
    cand = cand.loc[cand["province_code"].isin(codes)].reset_index(drop=True)
    ov = overlap.find_overlaps(cand[["province_code", "app_id", "app_name", "description", "category", "stages",
                                     "primary_users", "features"]].rename(columns={"app_name": "name"}))  # fmt: skip
    rk = risk.early_warning(ds, when)
    raters = _rater_matrix(ds, profiles, ev.panel)
    prev_map = {str(k): Path(v) for k, v in (previous or {}).items()}
    input_hashes = _input_hashes(ds)
    return NationalEvaluation(
        ds=ds, as_of=when, rubric=rub, profiles=profiles, scoring=ev, candidates=cand, overlaps=ov, risk=rk,
        rubric_root=root, previous_dir=Path(previous_dir) if previous_dir is not None else None,
        previous=prev_map, input_hashes=input_hashes, rubric_hashes=_hash_tree(root) if root.is_dir() else {},
        raters=raters,
    )  # fmt: skip


def _rater_matrix(ds: Any, profiles: Mapping[str, Any], panel: Any = None) -> Any:
    """The rater matrix of the provinces whose profile bootstraps raters (None if none does).

    ``panel`` is the scoring's :class:`evalkit.evaluate.panel.PanelResult`: its ``matrix`` (the scores
    it aggregated, laid out per panel) is reused; without one the scores are selected here.
    """
    from evalkit.evaluate import panel as _panel

    codes = [c for c, p in profiles.items() if _profile_value(p, "ranking", "bootstrap_raters") is not False]
    scores = getattr(ds, "panel_scores", None)
    if not codes or not isinstance(scores, pd.DataFrame) or scores.empty:
        return None
    matrix = getattr(panel, "matrix", None)
    if matrix is not None:
        return matrix.provinces(codes)
    col = scores["province_code"]
    col = col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("str")
    scores = scores.loc[col.isin(codes).to_numpy(dtype=bool)]
    return _panel.rater_matrix(scores, ds.experts, ds.apps)


def _previous_folder(nat: NationalEvaluation, code: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None, dict[str, str]]:
    """Previous decisions, credit, recommended list and credit history for a province, plus their hashes."""
    path = nat.previous.get(code)
    if path is None:
        path = find_previous(nat.previous_dir, code, nat.as_of)
    if path is None:
        return None, None, None, None, {}
    path = Path(path)
    folder = path.parent if path.is_file() else path
    dec_path = path if path.is_file() else folder / "decisions.csv"
    if not dec_path.is_file():
        raise DataError([Problem(str(dec_path), None, None, "the previous decisions.csv was not found")])
    dec = _read_export(dec_path)
    hashes = {"decisions.csv": exports.file_sha256(dec_path)}
    credit = rec = history = None
    if (folder / "credit.csv").is_file():
        credit = _read_export(folder / "credit.csv")
        hashes["credit.csv"] = exports.file_sha256(folder / "credit.csv")
    if (folder / "credit_history.csv").is_file():
        history = _read_export(folder / "credit_history.csv")
        hashes["credit_history.csv"] = exports.file_sha256(folder / "credit_history.csv")
    if (folder / "recommended_list.csv").is_file():
        rec = _read_export(folder / "recommended_list.csv")
    return dec, credit, rec, history, hashes


def _province(nat: NationalEvaluation, code: str) -> ProvinceResult:
    from evalkit.data import identifiers

    ds, profile, ev = nat.ds, nat.profiles[code], nat.scoring
    prev_dec, prev_credit, prev_rec, prev_history, prev_hashes = _previous_folder(nat, code)

    # credit (the previous list, if any, is the list complaints are checked against)
    listed = None
    if prev_dec is not None:
        listed = prev_dec.loc[prev_dec["status"].eq("recommended"), "app_id"].astype(str).tolist()
    cr = _credit.evaluate(ds, profile, nat.as_of, prev_credit, listed_apps=listed, province=code)
    banned = _credit.banned_providers(cr, nat.as_of)

    # the list
    cand = nat.candidates.loc[nat.candidates["province_code"].eq(code)].reset_index(drop=True)
    ov = nat.overlaps.loc[nat.overlaps["province_code"].eq(code)].reset_index(drop=True)
    overlapping = set(ov["app_id_a"]) | set(ov["app_id_b"])
    rub = ev.rubric_for(code)  # the province's weights (its experts', national fallback, entropy)
    rules = ListRules.from_profile(profile, _dimension_weights(rub), seed=0)
    boot = None
    if rules.bootstrap_raters and nat.raters is not None:
        reducer = str(_profile_value(profile, "panel", "reducer") or "trimmed_mean")
        boot = rater_bootstrap(ev, code, nat.raters, reducer=reducer)
    dec = recommend(cand, rules, banned=banned, overlapping=overlapping, raters=boot)
    changes = diff_with_previous(dec, prev_dec)
    change_of = changes.set_index("app_id")["change"]
    mapped = dec["app_id"].map(change_of)
    dec["change"] = mapped.astype(object).where(mapped.notna(), "").astype("str")
    names = {c.id: (c.name_zh, c.name_en) for c in nat.rubric.criteria} | ev.evidence_labels(code)
    dec["reasons_zh"] = reasons_text(dec["reasons"], "zh", names)
    dec["reasons_en"] = reasons_text(dec["reasons"], "en", names)
    dec["flags"] = dec["flags"].astype("str")

    rec = dec.loc[dec["status"].eq("recommended")].copy()
    listed_on = pd.Series(nat.as_of, index=rec.index, dtype="datetime64[us]")
    if prev_rec is not None and {"app_id", "listed_on"} <= set(prev_rec.columns):
        before = pd.to_datetime(prev_rec.set_index("app_id")["listed_on"].replace("", None), errors="coerce")
        kept = pd.Series(before.reindex(rec["app_id"]).to_numpy(), index=rec.index)  # .map fails on an empty list
        listed_on = kept.where(kept.notna() & rec["change"].eq("kept"), listed_on).astype("datetime64[us]")
    rec["listed_on"] = listed_on
    rec = rec.sort_values(["rank", "app_id"], kind="stable").reset_index(drop=True)

    # credit tables (no complaint contact or text: aggregates and provider fields only)
    credit = _credit_texts(cr.providers)
    credit = credit.drop(columns=[c for c in exports.FORBIDDEN_COLUMNS if c in credit.columns])
    credit_history = _credit_history(cr, prev_history, credit)
    negative = credit.loc[credit["list"].eq("grey")].reset_index(drop=True)
    black = credit.loc[credit["list"].eq("black")].reset_index(drop=True)
    bl_cols = ["provider_id", "provider_name", "legal_rep", "grade", "reasons", "reasons_zh", "reasons_en",
               "decided_on", "ban_until"]  # fmt: skip
    blacklist = black[bl_cols]
    apps = ds.apps[["app_id", "provider_id", "name"]].rename(columns={"name": "app_name"}).astype("str")
    blacklist_apps = apps.loc[apps["provider_id"].isin(set(blacklist["provider_id"]))].sort_values(
        ["provider_id", "app_id"], kind="stable").reset_index(drop=True)  # fmt: skip

    # risk, panel and method
    rk = nat.risk
    risk = rk.providers.loc[rk.providers["provider_id"].astype(str).isin(set(credit["provider_id"]))]
    risk = risk.reset_index(drop=True)
    panel = getattr(ev, "panel", None)

    def _slice(frame: Any) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            return pd.DataFrame()
        if "province_code" not in frame.columns:
            return frame.reset_index(drop=True)
        return frame.loc[frame["province_code"].astype(str).eq(code)].reset_index(drop=True)

    agreement = _slice(getattr(panel, "agreement", None))
    raters = _slice(getattr(panel, "raters", None))
    conflicts = _slice(getattr(panel, "conflicts", None))
    weights = rub.weights_table()
    experts = ds.experts
    panel_size = int((experts["province_code"].astype(str) == code).sum()) if "province_code" in experts.columns else 0
    from evalkit.evaluate.overlap import DEFAULT_TEXT_WEIGHT, DEFAULT_THRESHOLD

    method = {
        "rubric_version": str(nat.rubric.version),
        "weights_source": dict(rub.weights_source),
        "dimension_weights": _dimension_weights(rub),
        **_weights_method(ev, code),
        "waivers_refused": _refused_waivers(ev, code),
        "panel_size": panel_size,
        "panel_reducer": str(_profile_value(profile, "panel", "reducer")),
        "panel_min_raters": _profile_value(profile, "panel", "min_raters"),
        "ranking_method": rules.method,
        "robustness_draws": rules.draws,
        "robustness_concentration": rules.concentration,
        "robustness_seed": rules.seed,
        "robustness_bootstrap_raters": boot is not None,
        "robustness_rater_panels": 0 if boot is None else boot.n_panels,
        "overlap_threshold": DEFAULT_THRESHOLD,
        "overlap_text_weight": DEFAULT_TEXT_WEIGHT,
        "n_candidates": len(dec),
        "n_recommended": len(rec),
        "previous": bool(prev_hashes),
    }  # fmt: skip
    _check_invariants(nat, code, dec, rules, credit, cand)
    prov = identifiers.PROVINCES.get(code)
    name_zh = prov.name_zh if prov else _profile_value(profile, "name", "zh") or code
    name_en = prov.name_en if prov else _profile_value(profile, "name", "en") or code
    provenance = {
        "format": "evalkit-provenance/1",
        "evalkit_version": __version__,
        "province_code": code,
        "as_of": nat.as_of.strftime("%Y-%m-%d"),
        "inputs": dict(nat.input_hashes),
        "rubric_files": dict(nat.rubric_hashes),
        "previous_files": prev_hashes,
        "parameters": {"profile": _profile_params(profile), "list_rules": _rules_dict(rules), **{
            k: method[k] for k in ("overlap_threshold", "overlap_text_weight", "weights_source", "dimension_weights")}},
    }  # fmt: skip
    return ProvinceResult(
        code=code, name_zh=name_zh, name_en=name_en, as_of=nat.as_of, profile=profile,
        rubric_version=str(nat.rubric.version), decisions=dec, recommended=rec, changes=changes,
        overlaps=_name_pairs(ov, dec), credit=credit, credit_history=credit_history, negative_list=negative,
        blacklist=blacklist, blacklist_apps=blacklist_apps, complaint_stats=cr.complaints.reset_index(drop=True), risk=risk,
        risk_quality=_plain({**rk.quality, "scope": _risk_scope(ds)}), agreement=agreement, raters=raters, conflicts=conflicts,
        weights=weights, method=_plain(method), provenance=_plain(provenance),
    )  # fmt: skip


def _check_invariants(nat: NationalEvaluation, code: str, dec: pd.DataFrame, rules: ListRules,
                      credit: pd.DataFrame, cand: pd.DataFrame) -> None:
    """Refuse a province whose decisions break a published invariant (:mod:`evalkit.evaluate.invariants`)."""
    from evalkit.evaluate import invariants

    problems = invariants.check(
        dec, rules, as_of=nat.as_of, credit=credit, candidates=cand["app_id"], province=code,
        waivers=getattr(nat.ds, "waivers", None),
        national_waivers=bool(_profile_value(nat.profiles[code], "waivers", "national_apply")),
    )
    if problems:
        raise PublishError(f"province {code}: the decisions break published invariants: " + "; ".join(problems))


def _credit_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its credit reason codes (``reasons``) in Chinese and English."""
    out = frame.copy()
    out["reasons"] = out["reasons"].astype("str").fillna("")
    for lang in ("zh", "en"):
        out[f"reasons_{lang}"] = reasons_text(out["reasons"], lang, registry=_credit.REASONS)
    return out


def _credit_history(cr: Any, previous: pd.DataFrame | None, credit: pd.DataFrame) -> pd.DataFrame:
    """The province's status history (:func:`evalkit.evaluate.credit.continue_history`) with provider
    names (today's; for a provider no longer evaluated here, the previous file's) and texts."""
    hist = _credit_texts(_credit.continue_history(cr, previous))
    names = credit.set_index("provider_id")["provider_name"].astype("str")
    if previous is not None and "provider_name" in previous.columns:
        old = previous.drop_duplicates("provider_id", keep="last").set_index("provider_id")["provider_name"]
        names = pd.concat([names, old.loc[~old.index.isin(names.index)].astype("str")])
    name = names.reindex(hist["provider_id"].to_numpy()).to_numpy(object)
    hist.insert(1, "provider_name", pd.Series(name, index=hist.index, dtype="str").fillna(""))
    return hist


def _weights_method(ev: Any, code: str) -> dict[str, Any]:
    """``weights_method``, ``ahp`` (per level: whose judgments, experts and their CR, combined
    CR), ``entropy_weights`` and ``weights_note`` of one province (:mod:`evalkit.evaluate.weighting`)."""
    pw = ev.weighting.get(code)
    return pw.method_dict() if pw is not None else {"weights_method": "ahp", "ahp": {}, "entropy_weights": {},
                                                    "weights_note": ""}


def _refused_waivers(ev: Any, code: str) -> list[dict[str, Any]]:
    """Waivers in force that were not applied in the province (non-waivable veto items)."""
    ref = ev.refused_waivers
    mine = ref.loc[ref["province_code"].astype("str").eq(code)]
    cols = ["app_id", "criterion_id", "waiver_province", "approved_by", "reason", "expires_on"]
    return exports.to_records(mine[cols], sort_by=["app_id", "criterion_id"])


def _risk_scope(ds: Any) -> str:
    """``national`` when the early-warning model saw every provider, else ``province``."""
    return "national" if getattr(ds, "provinces", None) is None else "province"


def _profile_value(profile: Any, *path: str) -> Any:
    from evalkit.evaluate.recommend import profile_value

    return profile_value(profile, *path)


def _rules_dict(rules: ListRules) -> dict[str, Any]:
    return {f.name: (dict(v) if isinstance(v := getattr(rules, f.name), Mapping) else v) for f in fields(rules)}


def _name_pairs(ov: pd.DataFrame, dec: pd.DataFrame) -> pd.DataFrame:
    names = dec.set_index("app_id")["app_name"].astype("str")
    out = ov.copy()
    out["app_name_a"] = out["app_id_a"].map(names).fillna("").astype("str")
    out["app_name_b"] = out["app_id_b"].map(names).fillna("").astype("str")
    return out.reset_index(drop=True)


def _plain(obj: Any) -> Any:
    """JSON-safe plain values (numpy scalars, dates, NaN → None)."""
    return json.loads(json.dumps(exports.jsonable(obj), sort_keys=True, ensure_ascii=False))


# ==========================================================================================
# Writing a province folder and the cached entry point
# ==========================================================================================


def write_province(result: ProvinceResult, out_dir: str | Path) -> Path:
    """Write a province's exports into ``<out>/<as_of>/<code>/`` via staging + atomic rename.

    The files are written into ``<out>/<as_of>/.staging-<code>-<pid>/`` and the folder is
    renamed into place only when complete; an existing province folder is first renamed
    aside and removed afterwards, so readers never see a half-written folder.
    """
    day = Path(out_dir) / result.as_of.strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    final = day / result.code
    staging = day / f".staging-{result.code}-{os.getpid()}"
    old = day / f".old-{result.code}-{os.getpid()}"
    for leftover in (staging, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        result.write_exports(staging)
        if final.exists():
            os.replace(final, old)
        os.replace(staging, final)
    except BaseException:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not final.exists():
            os.replace(old, final)
        raise
    if old.exists():
        shutil.rmtree(old)
    return final


def _cache_key(data_dir: Path, province: str, as_of: pd.Timestamp, rubric_dir: Path | None) -> str:
    from evalkit.rubric import rubrics_root

    h = hashlib.sha256()
    h.update(f"{CACHE_FORMAT}|{__version__}|{province}|{as_of:%Y-%m-%d}|".encode())
    for name, digest in _data_hashes(data_dir, province).items():
        h.update(f"data:{name}={digest}|".encode())
    root = rubrics_root(rubric_dir)
    for name, digest in (_hash_tree(root) if root.is_dir() else {}).items():
        h.update(f"rubric:{name}={digest}|".encode())
    # the code too: a result cached by an earlier evalkit (same version string) is not reused
    for name, digest in _hash_tree(resources.package_dir(), (".py",)).items():
        h.update(f"code:{name}={digest}|".encode())
    return h.hexdigest()


def province_result(
    data_dir: str | Path,
    province: str,
    as_of: Any,
    *,
    cache_dir: str | Path | None = None,
    rubric_dir: str | Path | None = None,
    previous_dir: str | Path | None = None,
) -> ProvinceResult:
    """One province's result: loaded from ``cache_dir`` when it matches, else computed.

    Only the rows the province's evaluation needs are loaded
    (``load_dataset(data_dir, provinces=[province])``): of a partitioned dataset only the
    ``province=<code>`` partitions are read; a flat one is read and cut to the same rows, so
    both layouts give the same result (and the same export bytes but for the input names in
    ``provenance.json``).  The early-warning model is therefore trained on the province's
    providers only (``risk_quality["scope"] == "province"``); the national model is the one of
    :func:`evaluate` on the whole dataset (``evalkit publish``).  See docs/scale.md §4.

    The cache is valid while the data files read, the rubric files, the province, ``as_of``
    and the evalkit code are unchanged (a sha256 key over all of them).
    """
    from evalkit.data.dataset import load_dataset
    from evalkit.rubric.model import default_criterion_ids

    when = parse_date(as_of, func="province_result")
    data_dir = Path(data_dir)
    key = None
    folder = None
    if cache_dir is not None:
        key = _cache_key(data_dir, str(province), when, Path(rubric_dir) if rubric_dir else None)
        folder = Path(cache_dir) / f"{when:%Y-%m-%d}" / str(province)
        key_file = folder / "cache_key.txt"
        if key_file.is_file() and key_file.read_text(encoding="utf-8").strip() == key:
            try:
                return ProvinceResult.load(folder)
            except (EvalkitError, OSError, ValueError):
                pass  # a broken cache is recomputed
    ds = load_dataset(data_dir, as_of=when, provinces=[str(province)],
                      criteria=default_criterion_ids)
    nat = evaluate(ds, when, rubric_dir=rubric_dir, provinces=[str(province)], previous_dir=previous_dir)
    res = nat.province(str(province))
    if folder is not None and key is not None:
        res.save(folder)
        (folder / "cache_key.txt").write_text(key + "\n", encoding="utf-8")
    return res


