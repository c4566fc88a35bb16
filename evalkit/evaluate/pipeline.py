"""The pipeline: one national evaluation, sliced per province.

:func:`evaluate` computes everything that does not depend on a province's profile **once** for
the whole country — panel aggregation and scoring (one vectorised pass, :mod:`evalkit.evaluate.scoring`),
overlap detection (:mod:`evalkit.evaluate.overlap`), the early-warning model (:mod:`evalkit.evaluate.risk`) and
the hashes of every input — and :meth:`NationalEvaluation.province` then derives a province's
credit evaluation, recommended list and changes from it (computed on first use, then kept).

The :class:`~evalkit.evaluate.province.ProvinceResult` holds no personal data: complaints appear
only as statistics, and the exports it writes go through :mod:`evalkit.data.exports`
(deterministic bytes, no live formulas); its files are written and cached by
:mod:`evalkit.evaluate.province` (re-exported here).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit import __version__
from evalkit.data import exports
from evalkit.dates import parse_date
from evalkit.errors import EvalkitError, PublishError, param_message
from evalkit.evaluate import app_details, provenance
from evalkit.evaluate import credit as _credit
from evalkit.evaluate.candidates import candidate_frame
from evalkit.evaluate.provenance import find_previous
from evalkit.evaluate.province import (
    CACHE_FORMAT,
    CHANGES_EXPORT,
    CREDIT_EXPORT,
    CREDIT_HISTORY_EXPORT,
    DECISIONS_EXPORT,
    NEGATIVE_EXPORT,
    OVERLAPS_EXPORT,
    RECOMMENDED_EXPORT,
    ProvinceResult,
    write_province,
)
from evalkit.evaluate.province_list import Listing, dimension_weights, province_list
from evalkit.evaluate.reasons import reasons_text
from evalkit.evaluate.recommend import ListRules
from evalkit.evaluate.sanctions import gate
from evalkit.evaluate.schools import province_schools
from evalkit.rubric import profile_value

__all__ = [
    "CACHE_FORMAT",
    "CHANGES_EXPORT",
    "CREDIT_EXPORT",
    "CREDIT_HISTORY_EXPORT",
    "DECISIONS_EXPORT",
    "NEGATIVE_EXPORT",
    "OVERLAPS_EXPORT",
    "RECOMMENDED_EXPORT",
    "NationalEvaluation",
    "ProvinceResult",
    "evaluate",
    "find_previous",
    "province_result",
    "write_province",
]

# ==========================================================================================
# NationalEvaluation
# ==========================================================================================


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
    #: The register the previous cycles are read from (:class:`evalkit.data.register.Register`).
    register: Any = None
    input_hashes: dict[str, str] = field(default_factory=dict)
    rubric_hashes: dict[str, str] = field(default_factory=dict)
    #: Each province's profile files: ``{code: [{"file": …, "sha256": …}, …]}`` (provenance).
    profile_files: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    #: Final-round rater scores per panel (:func:`evalkit.evaluate.panel.rater_matrix`) for the rater
    #: bootstrap of the robustness analysis; None when no profile asks for it.
    raters: Any = None
    _cache: dict[str, ProvinceResult] = field(default_factory=dict, repr=False)
    _started: dict[str, Callable[[], ProvinceResult]] = field(default_factory=dict, repr=False)
    _listed_from: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def provinces(self) -> tuple[str, ...]:
        """The province codes evaluated (sorted)."""
        return tuple(sorted(self.profiles))

    def province(self, code: str, *, then: str | None = None) -> ProvinceResult:
        """The result of province ``code`` (computed on first use).

        ``then``: the province the caller asks for next (a loop over provinces passes it).
        Its credit and point decision are prepared, and its robustness draws started in a
        thread of their own, before this province is finished, so that the draws of one
        province run beside the table work of the other.  The results are the same.
        """
        code = self._known(code, "code")
        nxt = None if then is None else self._known(then, "then")
        if code not in self._cache:
            finish = self._started.pop(code, None) or _province(self, code)
            if nxt is not None and nxt != code and nxt not in self._cache and nxt not in self._started:
                try:
                    self._started[nxt] = _province(self, nxt)
                except Exception as exc:  # raised when ``then`` itself is asked for
                    self._started[nxt] = functools.partial(_reraise, exc)
            self._cache[code] = finish()
        return self._cache[code]

    def _known(self, code: str, param: str) -> str:
        code = str(code)
        if code not in self.profiles:
            raise PublishError(param_message(param, "NationalEvaluation.province",
                                             f"one of the evaluated provinces {list(self.provinces)}", repr(code)))
        return code

    def list_candidates(self, code: str) -> pd.DataFrame:
        """The candidates province ``code``'s list was decided on: :attr:`candidates` with the
        review decisions of due process (objections pending or upheld, provisional measures of a
        pending fraud sanction) in their ``reasons`` (the explorer decides on the same rows)."""
        self.province(code)
        return self._listed_from[str(code)]


def evaluate(
    ds: Any,
    as_of: Any,
    *,
    rubric_dir: str | Path | None = None,
    provinces: Iterable[str] | None = None,
    previous_dir: str | Path | None = None,
    register: Any = None,
    overlay: str | Path | None = None,
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
        The published output root (e.g. ``reports/``); its register (``register.sqlite``) is
        used when ``register`` is not given and it exists.  Sets published there before the
        register existed are refused (:func:`provenance.previous_cycle`).
    register : Register or str or Path, optional
        The register (:class:`evalkit.data.register.Register`, or a folder or URL to open)
        each province's previous cycle is read from: its decisions, credit, bans in force and
        transitions, never the published files.  None and no register under ``previous_dir``:
        a first cycle.
    overlay : str or Path, optional
        A rubrics folder whose ``profiles/`` files replace ``rubric_dir``'s file by file (a
        province workspace's ``rubrics/``; :func:`evalkit.rubric.profiles.load_profile`).  Each
        province's ``provenance.json`` names the profile files used (``profile_files``).

    Returns
    -------
    NationalEvaluation
    """
    from evalkit import rubric as _rubric
    from evalkit.evaluate import overlap, risk, scoring

    when = parse_date(as_of, func="pipeline.evaluate")
    rub = _rubric.load_rubric(rubric_dir)
    root = _rubric.rubrics_root(rubric_dir)
    subs_codes = sorted(set(ds.submissions["province_code"].astype("str")))
    codes = subs_codes if provinces is None else sorted({str(c) for c in provinces})
    profiles = _rubric.load_profiles(codes, rubric_dir, rubric=rub, overlay=overlay)
    # each province is weighted by its own experts' judgments (national fallback per level;
    # invalid judgments fall back with the reason in the province's method section)
    ev = scoring.evaluate(ds, rub, profiles, when, weights_from_dataset=True)
    cand = candidate_frame(ds, ev)
    cand = cand.loc[cand["province_code"].isin(codes)].reset_index(drop=True)
    ov = overlap.find_overlaps(cand[["province_code", "app_id", "app_name", "description", "category", "stages",
                                     "primary_users", "features"]].rename(columns={"app_name": "name"}))  # fmt: skip
    rk = risk.early_warning(ds, when)
    raters = _rater_matrix(ds, profiles, ev.panel)
    input_hashes = provenance.input_hashes(ds)
    return NationalEvaluation(
        ds=ds, as_of=when, rubric=rub, profiles=profiles, scoring=ev, candidates=cand, overlaps=ov, risk=rk,
        rubric_root=root, previous_dir=Path(previous_dir) if previous_dir is not None else None,
        register=_open_register(register, previous_dir), input_hashes=input_hashes,
        rubric_hashes=provenance.hash_tree(root) if root.is_dir() else {},
        profile_files={c: provenance.profile_record(_rubric.profile_files(c, root, overlay=overlay),
                                                     [overlay, root]) for c in codes},
        raters=raters,
    )  # fmt: skip


def _open_register(register: Any, previous_dir: str | Path | None) -> Any:
    """The register to read previous cycles from: ``register`` (opened if a folder or URL), else
    ``<previous_dir>/register.sqlite`` if it exists, else None."""
    from evalkit.data.register import Register

    if register is None and previous_dir is not None and (Path(previous_dir) / "register.sqlite").is_file():
        register = Path(previous_dir)
    if register is None or not isinstance(register, (str, Path)):
        return register
    return Register.open(register, lazy=True)  # read only: a missing file reads as empty, never made


def _rater_matrix(ds: Any, profiles: Mapping[str, Any], panel: Any = None) -> Any:
    """The rater matrix of the provinces whose profile bootstraps raters (None if none does).

    ``panel`` is the scoring's :class:`evalkit.evaluate.panel.PanelResult`: its ``matrix`` (the scores
    it aggregated, laid out per panel) is reused; without one the scores are selected here.
    """
    from evalkit.evaluate import panel as _panel

    codes = [c for c, p in profiles.items() if profile_value(p, "ranking", "bootstrap_raters") is not False]
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


# ==========================================================================================
# One province
# ==========================================================================================


def _reraise(exc: BaseException) -> Any:
    raise exc


def _province(nat: NationalEvaluation, code: str) -> Callable[[], ProvinceResult]:
    """Province ``code``'s result (:meth:`NationalEvaluation.province`) in two steps: its
    credit, credit tables and point decision now, with the list's robustness draws started;
    the returned function finishes the list, the method, the provenance and the schools."""
    prev = provenance.previous_cycle(nat.register, code, nat.as_of, nat.previous_dir)
    cr = _province_credit(nat, code, prev)
    listed = province_list(nat, code, cr, prev)
    tables = _credit_tables(nat.ds, cr, prev)
    return lambda: _finished(nat, code, prev, cr, listed(), tables)


def _finished(nat: NationalEvaluation, code: str, prev: provenance.PreviousCycle, cr: Any, listing: Listing,
              tables: dict[str, pd.DataFrame]) -> ProvinceResult:
    """Province ``code``'s result from its credit ``cr``, list and credit tables."""
    profile = nat.profiles[code]
    nat._listed_from[code] = listing.candidates
    method = _method(nat, code, listing, prev)
    _check_invariants(nat, code, listing.decisions, listing.rules, tables["credit"], listing.candidates)
    name_zh, name_en = _province_names(code, profile)
    record = _provenance(nat, code, listing.rules, method, prev.hashes)
    schools = province_schools(nat.ds, code, nat.as_of, profile, listing.decisions, tables["credit"],
                               tables["credit_history"], prev)
    return ProvinceResult(
        code=code, name_zh=name_zh, name_en=name_en, as_of=nat.as_of, profile=profile,
        rubric_version=str(nat.rubric.version), decisions=listing.decisions, recommended=listing.recommended,
        changes=listing.changes, overlaps=_name_pairs(listing.overlaps, listing.decisions), **tables,
        complaint_stats=cr.complaints.reset_index(drop=True), risk=_province_risk(nat, tables["credit"]),
        risk_quality=_plain({**nat.risk.quality, "scope": _risk_scope(nat.ds)}), **_panel_tables(nat.scoring, code),
        weights=listing.rubric.weights_table(), method=_plain(method), provenance=_plain(record), **schools,
        **app_details.details(nat.scoring, nat.ds, nat.register, code, listing.decisions["app_id"]),
        objections=listing.objections,
    )  # fmt: skip



def _province_credit(nat: NationalEvaluation, code: str, prev: provenance.PreviousCycle) -> Any:
    """The province's credit (complaints checked against the previous list, if any), its due process gated."""
    listed = None
    if prev.decisions is not None:  # the previous list, with the date each app was listed
        dec = prev.decisions.loc[prev.decisions["status"].eq("recommended")]
        listed = dict(zip(dec["app_id"].astype(str), dec["listed_on"].astype(str), strict=True))
    cr = _credit.evaluate(nat.ds, nat.profiles[code], nat.as_of, prev.credit, listed_apps=listed, province=code)
    return gate(cr, nat.ds, nat.profiles[code], code, prev.credit)  # notice before a sanction; repair


def _credit_tables(ds: Any, cr: Any, prev: provenance.PreviousCycle) -> dict[str, pd.DataFrame]:
    """credit, credit_history, negative_list, blacklist and blacklist_apps of a province (no
    complaint contact or text: aggregates and provider fields only).  A blacklisted provider's
    apps are its apps in the input; for one with none there (a provider that skipped the cycle),
    the apps the register recorded for it."""
    credit = _credit_texts(cr.providers)
    credit = credit.drop(columns=[c for c in exports.FORBIDDEN_COLUMNS if c in credit.columns])
    credit_history = _credit_history(cr, prev.history, credit)
    negative = credit.loc[credit["list"].eq("grey")].reset_index(drop=True)
    black = credit.loc[credit["list"].eq("black")].reset_index(drop=True)
    bl_cols = ["provider_id", "provider_name", "legal_rep", "grade", "reasons", "reasons_zh", "reasons_en",
               "decided_on", "ban_until"]  # fmt: skip
    blacklist = black[bl_cols]
    apps = ds.apps[["app_id", "provider_id", "name"]].rename(columns={"name": "app_name"}).astype("str")
    if prev.banned_apps is not None:
        apps = pd.concat([apps, prev.banned_apps.loc[~prev.banned_apps["provider_id"].isin(apps["provider_id"])]])
    blacklist_apps = apps.loc[apps["provider_id"].isin(set(blacklist["provider_id"]))].sort_values(
        ["provider_id", "app_id"], kind="stable").reset_index(drop=True)  # fmt: skip
    return {
        "credit": credit,
        "credit_history": credit_history,
        "negative_list": negative,
        "blacklist": blacklist,
        "blacklist_apps": blacklist_apps,
    }


def _province_risk(nat: NationalEvaluation, credit: pd.DataFrame) -> pd.DataFrame:
    """The early warning of the province's providers."""
    rk = nat.risk.providers
    return rk.loc[rk["provider_id"].astype(str).isin(set(credit["provider_id"]))].reset_index(drop=True)


def _panel_tables(ev: Any, code: str) -> dict[str, pd.DataFrame]:
    """The panel's agreement, raters and conflicts in the province."""
    panel = getattr(ev, "panel", None)

    def province_rows(frame: Any) -> pd.DataFrame:
        if not isinstance(frame, pd.DataFrame):
            return pd.DataFrame()
        if "province_code" not in frame.columns:
            return frame.reset_index(drop=True)
        return frame.loc[frame["province_code"].astype(str).eq(code)].reset_index(drop=True)

    return {name: province_rows(getattr(panel, name, None)) for name in ("agreement", "raters", "conflicts")}


def _method(nat: NationalEvaluation, code: str, listing: Listing, prev: provenance.PreviousCycle) -> dict[str, Any]:
    """How the province's list was made (``ProvinceResult.method``)."""
    from evalkit.evaluate.overlap import DEFAULT_TEXT_WEIGHT, DEFAULT_THRESHOLD

    profile, rub, rules, boot = nat.profiles[code], listing.rubric, listing.rules, listing.bootstrap
    experts = nat.ds.experts
    panel_size = int((experts["province_code"].astype(str) == code).sum()) if "province_code" in experts.columns else 0
    return {
        "rubric_version": str(nat.rubric.version),
        "weights_source": dict(rub.weights_source),
        "dimension_weights": dimension_weights(rub),
        **_weights_method(nat.scoring, code),
        "waivers_refused": _refused_waivers(nat.scoring, code),
        "panel_size": panel_size,
        "panel_reducer": str(profile_value(profile, "panel", "reducer")),
        "panel_min_raters": profile_value(profile, "panel", "min_raters"),
        "ranking_method": rules.method,
        "robustness_draws": rules.draws,
        "robustness_concentration": rules.concentration,
        "robustness_seed": rules.seed,
        "robustness_bootstrap_raters": boot is not None,
        "robustness_rater_panels": 0 if boot is None else boot.n_panels,
        "overlap_threshold": DEFAULT_THRESHOLD,
        "overlap_text_weight": DEFAULT_TEXT_WEIGHT,
        "n_candidates": len(listing.decisions),
        "n_recommended": len(listing.recommended),
        "previous": bool(prev.hashes),
    }  # fmt: skip


def _province_names(code: str, profile: Any) -> tuple[str, str]:
    """The province's Chinese and English names (the profile's for an unknown code)."""
    from evalkit.data import identifiers

    prov = identifiers.PROVINCES.get(code)
    name_zh = prov.name_zh if prov else profile_value(profile, "name", "zh") or code
    name_en = prov.name_en if prov else profile_value(profile, "name", "en") or code
    return name_zh, name_en


def _provenance(
    nat: NationalEvaluation, code: str, rules: ListRules, method: Mapping[str, Any], prev_hashes: dict[str, str]
) -> dict[str, Any]:
    """Every input, rubric file, previous file and parameter the province's result depends on."""
    return {
        "format": "evalkit-provenance/1",
        "evalkit_version": __version__,
        "province_code": code,
        "as_of": nat.as_of.strftime("%Y-%m-%d"),
        "inputs": dict(nat.input_hashes),
        "rubric_files": dict(nat.rubric_hashes),
        "profile_files": list(nat.profile_files.get(code, [])),
        "previous_files": prev_hashes,
        "parameters": {"profile": _profile_params(nat.profiles[code]), "list_rules": _rules_dict(rules), **{
            k: method[k] for k in ("overlap_threshold", "overlap_text_weight", "weights_source", "dimension_weights")}},
    }  # fmt: skip


def _check_invariants(
    nat: NationalEvaluation, code: str, dec: pd.DataFrame, rules: ListRules, credit: pd.DataFrame, cand: pd.DataFrame
) -> None:
    """Refuse a province whose decisions break a published invariant (:mod:`evalkit.evaluate.invariants`)."""
    from evalkit.evaluate import invariants

    problems = invariants.check(
        dec,
        rules,
        as_of=nat.as_of,
        credit=credit,
        candidates=cand["app_id"],
        province=code,
        waivers=getattr(nat.ds, "waivers", None),
        national_waivers=bool(profile_value(nat.profiles[code], "waivers", "national_apply")),
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
    return (
        pw.method_dict()
        if pw is not None
        else {"weights_method": "ahp", "ahp": {}, "entropy_weights": {}, "weights_note": ""}
    )


def _refused_waivers(ev: Any, code: str) -> list[dict[str, Any]]:
    """Waivers in force that were not applied in the province (non-waivable veto items)."""
    ref = ev.refused_waivers
    mine = ref.loc[ref["province_code"].astype("str").eq(code)]
    cols = ["app_id", "criterion_id", "waiver_province", "approved_by", "reason", "expires_on"]
    return exports.to_records(mine[cols], sort_by=["app_id", "criterion_id"])


def _risk_scope(ds: Any) -> str:
    """``national`` when the early-warning model saw every provider, else ``province``."""
    return "national" if getattr(ds, "provinces", None) is None else "province"


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
# The cached entry point
# ==========================================================================================


def province_result(
    data_dir: str | Path,
    province: str,
    as_of: Any,
    *,
    cache_dir: str | Path | None = None,
    rubric_dir: str | Path | None = None,
    previous_dir: str | Path | None = None,
    overlay: str | Path | None = None,
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
    from evalkit.rubric import default_criterion_ids

    when = parse_date(as_of, func="province_result")
    data_dir = Path(data_dir)
    key = None
    folder = None
    if cache_dir is not None:
        key = provenance.cache_key(data_dir, str(province), when, rubric_dir, overlay)
        folder = Path(cache_dir) / f"{when:%Y-%m-%d}" / str(province)
        key_file = folder / "cache_key.txt"
        if key_file.is_file() and key_file.read_text(encoding="utf-8").strip() == key:
            try:
                return ProvinceResult.load(folder)
            except (EvalkitError, OSError, ValueError):
                pass  # a broken cache is recomputed
    ds = load_dataset(data_dir, as_of=when, provinces=[str(province)], criteria=default_criterion_ids)
    nat = evaluate(ds, when, rubric_dir=rubric_dir, provinces=[str(province)], previous_dir=previous_dir,
                   overlay=overlay)
    res = nat.province(str(province))
    if folder is not None and key is not None:
        res.save(folder)
        (folder / "cache_key.txt").write_text(key + "\n", encoding="utf-8")
    return res
