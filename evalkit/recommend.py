"""The provincial recommended list: eligibility, ranking, greedy list under caps, changes.

Section (9) of the 2019 Opinions asks each province to publish a recommended list; section (10)
to control its size; section (11) forbids a single app or provider monopolising a business and
says admissions/exam/score apps are run by education departments in principle; section (16)
asks for an opt-out (exit) mechanism.  This module turns scored candidates into that list.

For one province (see :func:`recommend`):

1. **Eligibility** (gates before scores).  A candidate is ``excluded`` when it failed a veto
   item or a panel floor, lacks evidence, has a stale assessment or an insufficient panel (all
   reason codes from :mod:`evalkit.scoring`), is not filed (``not_filed``), or its provider's
   ban is in force (``provider_blacklisted``).  Excluded apps are never ranked.
2. **Ranking** of the eligible apps by the profile's method (weighted sum or TOPSIS over the
   four dimension scores, :mod:`evalkit.rank`) with the tie-break chain: score, security,
   legality, earlier submission, app id.  Robustness gives ``p_listed`` — the probability of
   ranking within the list's size — and a 5–95 % rank interval; ``0.2 ≤ p_listed ≤ 0.8`` is a
   *close call*.  Each seeded draw perturbs the rubric's dimension weights (Dirichlet) and,
   with a :class:`RaterBootstrap` (profile ``ranking.bootstrap_raters``), resamples every
   app's panel raters with replacement, re-reduces the panel scores with the profile's
   reducer and recomputes the dimension scores (:func:`rater_bootstrap`).
3. **Minimum scores**: an eligible app below the minimum total or a dimension minimum is
   ``not_recommended`` (``below_min_total``, ``below_min:<dimension>``).
4. **Greedy construction** in rank order: an app is ``recommended`` unless, at its turn, a cap
   is already full — the total (``cap:total``), its category (``cap:category:<c>``), one of its
   stages (``cap:stage:<s>``) or its provider's share of the category
   (``cap:provider_share``: at most ``ceil(share_cap × places)`` apps of one provider in one
   category, where *places* is the category cap, else the total cap, else the number of
   qualified apps of the category).  Capped apps are ``not_recommended`` with every cap that
   was full at their turn.

Every candidate ends with exactly one status and, unless recommended, at least one reason
code.  Flags do not change the status: ``flag:third_party_admissions`` (an app with the
``admissions_exams`` feature, section (11)), ``flag:close_call``, ``flag:overlap`` (an
integration candidate, :mod:`evalkit.overlap`).

:func:`diff_with_previous` compares a list with the previous published one: every app is
``added``, ``kept`` or ``opted_out`` with a reason (``failed_reevaluation``, ``blacklisted``,
``assessment_expired``, ``withdrawn``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import require_frame
from .i18n import VOCABULARIES

__all__ = [
    "CHANGE_REASONS",
    "DECISION_COLUMNS",
    "DIMENSIONS",
    "EXCLUDING_PREFIXES",
    "STATUSES",
    "ListRules",
    "RaterBootstrap",
    "diff_with_previous",
    "greedy_select",
    "rater_bootstrap",
    "reason_text",
    "reasons_text",
    "recommend",
]

DIMENSIONS = ("legality", "function", "security", "content")
STATUSES = ("recommended", "not_recommended", "excluded")
CHANGE_REASONS = ("failed_reevaluation", "blacklisted", "assessment_expired", "withdrawn")
#: Reason codes (or code prefixes before ``:``) that exclude a candidate from the ranking.
EXCLUDING_PREFIXES = frozenset(
    {
        "veto",
        "panel_floor",
        "missing_evidence",
        "stale_assessment",
        "insufficient_panel",
        "not_filed",
        "provider_blacklisted",
    }
)
DECISION_COLUMNS = [
    "app_id", "app_name", "provider_id", "status", "rank", "total_score",
    "legality", "function", "security", "content", "p_listed", "reasons",
]  # fmt: skip

# --- reason-code registry -----------------------------------------------------------------

#: Fixed reason codes with their Chinese and English text.
REASONS: dict[str, tuple[str, str]] = {
    "cap:total": ("推荐名单总数已满", "the list's total size cap was reached"),
    "cap:provider_share": (
        "同一提供者在该类业务中的推荐数已达上限（防止单一应用垄断业务）",
        "the provider already holds its maximum share of this category (no single-app monopoly)",
    ),
    "below_min_total": ("总分低于最低推荐分", "total score below the minimum for the list"),
    "provider_blacklisted": (
        "提供者列入黑名单，禁入期未满",
        "the provider is blacklisted and its ban is in force",
    ),
    "not_filed": ("应用未完成教育移动应用备案", "the app is not filed"),
    "insufficient_panel": ("专家评审人数不足", "too few expert panel scores"),
    "flag:third_party_admissions": (
        "第三方招生、考试、成绩类应用（原则上应由教育部门或学校主办）",
        ("third-party admissions/exam/score app (such apps are run by education departments in "
        "principle)"),
    ),
    "flag:close_call": ("排名稳健性分析显示入选与否接近临界", "close call in the robustness analysis"),
    "flag:overlap": ("与其他候选应用功能重叠，建议整合", "overlaps another candidate: integration candidate"),
    "failed_reevaluation": ("重新评估未通过", "failed re-evaluation"),
    "blacklisted": ("提供者列入黑名单", "provider blacklisted"),
    "assessment_expired": ("评估结果过期", "assessment expired"),
    "withdrawn": ("未再申报", "withdrawn (not submitted any more)"),
    "added": ("新增", "added"),
    "kept": ("保留", "kept"),
    "opted_out": ("退出", "opted out"),
}
_PATTERNS: dict[str, tuple[str, str]] = {
    "veto": ("否决项未通过：{x}", "veto item failed: {x}"),
    "panel_floor": ("专家评分低于底线：{x}", "expert score below the floor: {x}"),
    "missing_evidence": ("缺少评估证据：{x}", "missing evidence: {x}"),
    "stale_assessment": ("评估结果已过有效期：{x}", "assessment out of date: {x}"),
    "waived": ("已豁免：{x}", "waived: {x}"),
    "cap:category": ("该类别推荐数已满：{x}", "category cap reached: {x}"),
    "cap:stage": ("该学段推荐数已满：{x}", "stage cap reached: {x}"),
    "below_min": ("维度得分低于最低要求：{x}", "dimension score below the minimum: {x}"),
}
_LABELS = {
    "cap:category": VOCABULARIES["category"],
    "cap:stage": VOCABULARIES["stage"],
    "below_min": VOCABULARIES["dimension"],
}


def reason_text(
    code: str,
    lang: str = "zh",
    names: Mapping[str, tuple[str, str]] | None = None,
    registry: Mapping[str, tuple[str, str]] | None = None,
) -> str:
    """The words for one reason code.

    Parameters
    ----------
    code : str
        A reason code such as ``cap:stage:primary`` or ``veto:L16_mandated_no_fees``.
    lang : {"zh", "en"}
        Language.
    names : mapping, optional
        ``criterion_id -> (name_zh, name_en)`` used for codes naming a criterion.
    registry : mapping, optional
        Extra fixed codes ``code -> (zh, en)`` looked up first (e.g. ``credit.REASONS``).

    Returns
    -------
    str
        The text; an unknown code is returned as is (so a new code still shows).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"The 'lang' parameter of reason_text must be 'zh' or 'en'; got {lang!r} instead.")
    i = 0 if lang == "zh" else 1
    if registry and code in registry:
        return registry[code][i]
    if code in REASONS:
        return REASONS[code][i]
    for prefix in sorted(_PATTERNS, key=len, reverse=True):
        if code.startswith(prefix + ":"):
            x = code[len(prefix) + 1 :]
            label = _LABELS.get(prefix, names or {}).get(x)
            return _PATTERNS[prefix][i].format(x=label[i] if label else x)
    return code


def reasons_text(
    codes: pd.Series,
    lang: str = "zh",
    names: Mapping[str, tuple[str, str]] | None = None,
    registry: Mapping[str, tuple[str, str]] | None = None,
) -> pd.Series:
    """Vectorised :func:`reason_text` over ``;``-joined codes.

    Codes of one pattern are said once: ``stale_assessment:A;stale_assessment:B`` reads
    "评估结果已过有效期：A、B".  Each distinct code is translated once.
    """
    s = codes.astype("str").fillna("")
    combos = pd.Series(s.unique(), dtype="str")  # translate each distinct combination once
    parts = combos.str.split(";").explode()
    parts = parts[parts.ne("") & parts.notna()]
    if parts.empty:
        return pd.Series("", index=s.index, dtype="str")
    i = 0 if lang == "zh" else 1
    df = pd.DataFrame({"combo": parts.index, "code": parts.to_numpy(dtype=str)})
    alternatives = "|".join(re.escape(k) for k in sorted(_PATTERNS, key=len, reverse=True))
    m = df["code"].str.extract(f"^(?P<prefix>{alternatives}):(?P<x>.*)$")
    fixed = m["prefix"].isna() | df["code"].isin(list(registry or {})) | df["code"].isin(list(REASONS))
    df["key"] = df["code"].where(fixed, m["prefix"])
    uniq = df["code"].unique()
    one = pd.Series([reason_text(c, lang, names, registry) for c in uniq], index=uniq)  # per code
    pat = pd.concat([df["code"], m], axis=1)[~fixed.to_numpy()].drop_duplicates("code")
    labels = pd.Series(
        [(_LABELS.get(px, names or {}).get(x) or (x, x))[i] for px, x in zip(pat["prefix"], pat["x"])],
        index=pat["code"].to_numpy(), dtype="str",
    )  # per distinct code
    df["fixed"] = fixed.to_numpy()
    df["word"] = np.where(df["fixed"], df["code"].map(one), df["code"].map(labels))
    df["order"] = np.arange(len(df))
    g = df.groupby(["combo", "key"], sort=False).agg(
        word=("word", ("、" if lang == "zh" else ", ").join), order=("order", "first"),
        fixed=("fixed", "first"),
    ).reset_index().sort_values("order")
    pattern = g["key"].map({k: v[i] for k, v in _PATTERNS.items()})
    g["text"] = np.where(g["fixed"], g["word"], [
        p.format(x=w) if isinstance(p, str) else w for p, w in zip(pattern, g["word"])
    ])
    sep = "；" if lang == "zh" else "; "
    joined = g.groupby("combo", sort=False)["text"].agg(sep.join)
    text = pd.Series(joined.reindex(combos.index, fill_value="").to_numpy(), index=combos.to_numpy())
    return s.map(text).astype("str")


# --- rules --------------------------------------------------------------------------------


def _get(obj: Any, *path: str, default: Any = None) -> Any:
    """Attribute or mapping access along a path (profiles are typed objects or mappings)."""
    cur = obj
    for key in path:
        if cur is None:
            return default
        if isinstance(cur, Mapping):
            cur = cur.get(key, None)
        else:
            cur = getattr(cur, key, None)
    return default if cur is None else cur


def _mapping(value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    return {str(k): float(v) for k, v in dict(value).items() if v is not None}


@dataclass(frozen=True)
class ListRules:
    """The list rules of one province's profile.

    Attributes
    ----------
    weights : mapping
        Dimension weights (legality, function, security, content), normalised to sum to 1.
    max_total : int or None
        Total places; ``None`` = no cap.
    max_per_category, max_per_stage : mapping
        Caps by category and by stage code (absent codes are not capped).
    min_total_score : float or None
        Minimum total score (0–100).
    min_dimension_score : mapping
        Minimum score per dimension.
    provider_share_cap : float or None
        Fraction of a category's places one provider may hold.
    method : {"weighted_sum", "topsis"}
        Ranking method.
    draws, concentration, seed
        Robustness analysis parameters; ``concentration=None`` keeps the weights fixed.
    bootstrap_raters : bool
        Robustness draws also resample each app's panel raters (when :func:`recommend` is
        given a :class:`RaterBootstrap`).
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(DIMENSIONS, 0.25))
    max_total: int | None = None
    max_per_category: Mapping[str, int] = field(default_factory=dict)
    max_per_stage: Mapping[str, int] = field(default_factory=dict)
    min_total_score: float | None = None
    min_dimension_score: Mapping[str, float] = field(default_factory=dict)
    provider_share_cap: float | None = None
    method: str = "weighted_sum"
    draws: int = 1000
    concentration: float | None = 100.0
    seed: int = 0
    bootstrap_raters: bool = True

    def __post_init__(self) -> None:
        if self.method not in ("weighted_sum", "topsis"):
            raise ValueError(
                "The 'method' parameter of ListRules must be one of {'weighted_sum', 'topsis'}; "
                f"got {self.method!r} instead."
            )
        w = {d: float(self.weights.get(d, 0.0)) for d in DIMENSIONS}
        if any(not math.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise ValueError(
                "The 'weights' parameter of ListRules must map the four dimensions to "
                f"non-negative numbers with a positive sum; got {dict(self.weights)!r} instead."
            )
        object.__setattr__(self, "weights", {d: v / sum(w.values()) for d, v in w.items()})
        if self.max_total is not None and self.max_total < 0:
            raise ValueError(
                f"The 'max_total' parameter of ListRules must be ≥ 0 or None; got {self.max_total!r} instead."
            )
        cap = self.provider_share_cap
        if cap is not None and not (0.0 < cap <= 1.0):
            raise ValueError(
                "The 'provider_share_cap' parameter of ListRules must be in (0, 1] or None; "
                f"got {cap!r} instead."
            )
        if self.draws < 1:
            raise ValueError(f"The 'draws' parameter of ListRules must be ≥ 1; got {self.draws!r} instead.")
        kappa = self.concentration
        if kappa is not None and not (isinstance(kappa, (int, float)) and kappa > 0):
            raise ValueError(
                "The 'concentration' parameter of ListRules must be a positive number or None; "
                f"got {kappa!r} instead."
            )
        if not isinstance(self.bootstrap_raters, (bool, np.bool_)):
            raise TypeError(
                "The 'bootstrap_raters' parameter of ListRules must be a bool; "
                f"got {self.bootstrap_raters!r} instead."
            )

    @classmethod
    def from_profile(cls, profile: Any, weights: Mapping[str, float] | None = None, seed: int = 0) -> ListRules:
        """Build the rules from a profile (typed object or mapping) and the dimension weights."""
        lst = _get(profile, "list")
        ranking = _get(profile, "ranking")
        max_total = _get(lst, "max_total")
        kwargs: dict[str, Any] = {
            "max_total": None if max_total is None else int(max_total),
            "max_per_category": {k: int(v) for k, v in _mapping(_get(lst, "max_per_category")).items()},
            "max_per_stage": {k: int(v) for k, v in _mapping(_get(lst, "max_per_stage")).items()},
            "min_total_score": _get(lst, "min_total_score"),
            "min_dimension_score": _mapping(_get(lst, "min_dimension_score")),
            "provider_share_cap": _get(lst, "provider_share_cap"),
            "method": str(_get(ranking, "method", default="weighted_sum")),
            "draws": int(_get(ranking, "draws", default=1000)),
            "concentration": float(_get(ranking, "concentration", default=100.0)),
            "seed": seed,
            "bootstrap_raters": bool(_get(ranking, "bootstrap_raters", default=True)),
        }
        if weights is not None:
            kwargs["weights"] = dict(weights)
        return cls(**kwargs)


# --- the greedy kernel --------------------------------------------------------------------


def _cumcount(codes: np.ndarray) -> np.ndarray:
    """0-based running count of each code's occurrences, in array order."""
    n = codes.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    start = np.r_[True, sc[1:] != sc[:-1]]
    idx = np.arange(n)
    first = np.maximum.accumulate(np.where(start, idx, 0))
    out = np.empty(n, dtype=np.int64)
    out[order] = idx - first
    return out


def _group_cumsum_exclusive(codes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over earlier items with the same code (array order)."""
    n = codes.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    v = values[order].astype(np.int64)
    cs = np.cumsum(v)
    sc = codes[order]
    start = np.r_[True, sc[1:] != sc[:-1]]
    base = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    before = cs - v - (cs[base] - v[base])
    out = np.empty(n, dtype=np.int64)
    out[order] = before
    return out


def greedy_select(
    single: list[tuple[np.ndarray, np.ndarray]],
    multi: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Greedy selection in array (rank) order under counting caps — the pure kernel.

    Parameters
    ----------
    single : list of (codes, caps)
        Single-label constraints: ``codes`` (n,) int, the item's group (``-1`` = not
        constrained); ``caps`` (g,) float, the group's capacity (``inf`` = none).
    multi : list of (member, caps)
        Multi-label constraints: ``member`` (n, g) bool, ``caps`` (g,) float.

    Returns
    -------
    accepted : ndarray of bool (n,)
        The greedy selection: item *i* is accepted iff no group it belongs to is full when the
        accepted items ranked before it are counted.
    blocked_single : list of ndarray of bool (n,)
        Per single constraint: the item's group was full at its turn.
    blocked_multi : list of ndarray of bool (n, g)
        Per multi constraint: which of the item's groups were full at its turn.

    Notes
    -----
    Not a loop over items: each pass accepts the longest feasible prefix of the pending items
    at once, then rejects every pending item of a group that has become full.  Every pass
    fills at least one new group, so there are at most (number of groups + 1) passes.
    """
    n = single[0][0].size if single else (multi[0][0].shape[0] if multi else 0)
    accepted = np.zeros(n, dtype=bool)
    rejected = np.zeros(n, dtype=bool)
    acc_s = [np.zeros(caps.size, dtype=np.int64) for _, caps in single]
    acc_m = [np.zeros(caps.size, dtype=np.int64) for _, caps in multi]

    def _take(idx: np.ndarray) -> None:
        accepted[idx] = True
        for (codes, caps), acc in zip(single, acc_s):
            c = codes[idx]
            acc += np.bincount(c[c >= 0], minlength=caps.size)
        for (member, _), acc in zip(multi, acc_m):
            acc += member[idx].sum(axis=0)

    while True:
        pend = np.flatnonzero(~accepted & ~rejected)
        if pend.size == 0:
            break
        viol = np.zeros(pend.size, dtype=bool)
        for (codes, caps), acc in zip(single, acc_s):
            c = codes[pend]
            has = c >= 0
            cc = np.clip(c, 0, None)
            count = acc[cc] + _cumcount(np.where(has, c, -1)) + 1
            viol |= has & (count > caps[cc])
        for (member, caps), acc in zip(multi, acc_m):
            m = member[pend]
            count = acc[None, :] + np.cumsum(m, axis=0)
            viol |= ((count > caps[None, :]) & m).any(axis=1)
        if not viol.any():
            _take(pend)
            break
        first = int(np.argmax(viol))
        _take(pend[:first])
        rest = pend[first:]
        full_hit = np.zeros(rest.size, dtype=bool)
        for (codes, caps), acc in zip(single, acc_s):
            c = codes[rest]
            full = acc >= caps
            full_hit |= (c >= 0) & full[np.clip(c, 0, None)]
        for (member, caps), acc in zip(multi, acc_m):
            full_hit |= (member[rest] & (acc >= caps)[None, :]).any(axis=1)
        rejected[rest[full_hit]] = True

    blocked_s = []
    for codes, caps in single:
        has = codes >= 0
        before = _group_cumsum_exclusive(np.where(has, codes, -1), accepted)
        blocked_s.append(~accepted & has & (before >= caps[np.clip(codes, 0, None)]))
    blocked_m = []
    for member, caps in multi:
        m_acc = member & accepted[:, None]
        before = np.cumsum(m_acc, axis=0) - m_acc
        blocked_m.append(~accepted[:, None] & member & (before >= caps[None, :]))
    return accepted, blocked_s, blocked_m


# --- helpers ------------------------------------------------------------------------------


def _join(parts: list[pd.Series], index: pd.Index) -> pd.Series:
    """Join code Series (``""`` = none) with ``;`` skipping empties, vectorised."""
    if not parts:
        return pd.Series("", index=index, dtype="str")
    out = parts[0].astype("str").fillna("")
    for p in parts[1:]:
        out = out + ";" + p.astype("str").fillna("")
    return out.str.replace(r";{2,}", ";", regex=True).str.strip(";")


def _has_prefix(reasons: pd.Series, prefixes: Collection[str]) -> pd.Series:
    alt = "|".join(re.escape(p) for p in sorted(prefixes))
    return reasons.astype("str").fillna("").str.contains(rf"(?:^|;)(?:{alt})(?::|;|$)", regex=True)


def _positive_or_na(a: np.ndarray) -> pd.Series:
    """Int64 values with ``≤ 0`` (no rank) as missing."""
    return pd.Series(a, dtype="Int64").mask(a <= 0)


_REQUIRED = ["app_id", "provider_id", "category", "stages", *DIMENSIONS, "total_score"]


def _check_candidates(candidates: pd.DataFrame) -> None:
    require_frame(candidates, "candidates", "recommend", _REQUIRED)
    if candidates["app_id"].duplicated().any():
        dup = candidates.loc[candidates["app_id"].duplicated(), "app_id"].iloc[0]
        raise ValueError(
            "The 'candidates' parameter of recommend must hold one row per app (one province); "
            f"got app_id {dup!r} twice instead."
        )


def _rank(x: np.ndarray, rules: ListRules, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Scores and dense 1-based ranks with the tie-break chain (via :mod:`evalkit.rank`)."""
    from . import rank as _rk

    w = np.array([rules.weights[d] for d in DIMENSIONS])
    if rules.method == "topsis":
        score = np.asarray(_rk.topsis(x, w, np.ones(len(DIMENSIONS), dtype=bool)), dtype=float)
    else:
        score = np.asarray(_rk.weighted_sum(x, w), dtype=float)
    if "submitted_on" in frame.columns:
        submitted = pd.to_datetime(frame["submitted_on"]).reset_index(drop=True)
    else:
        submitted = pd.Series(pd.NaT, index=range(len(frame)), dtype="datetime64[us]")
    # The chain: score, security, legality (higher wins), earlier submission, smaller app_id.
    ranks = _rk.rank_with_ties(
        np.round(score, 9),
        np.round(x[:, DIMENSIONS.index("security")], 9),
        np.round(x[:, DIMENSIONS.index("legality")], 9),
        submitted,
        frame["app_id"].astype("str").reset_index(drop=True),
        ascending=[False, False, True, True],
        warn=False,  # app ids are unique: the chain is total
    )
    ranks = np.asarray(ranks, dtype=np.int64)
    return score, ranks


def _robustness(
    x: np.ndarray, rules: ListRules, k: int, x_draws: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p_listed`` and the rank interval; ``x_draws`` (draws, n, 4): one dimension matrix per
    draw (the rater bootstrap), used as is."""
    from . import rank as _rk

    n = x.shape[0]
    if n == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    w = np.array([rules.weights[d] for d in DIMENSIONS])
    res = _rk.robustness(
        x, w, min(max(int(k), 1), n), draws=rules.draws, concentration=rules.concentration,
        seed=rules.seed, method=rules.method,
        benefit=np.ones(len(DIMENSIONS), dtype=bool) if rules.method == "topsis" else None,
        x_draws=x_draws, resample=x_draws is None,
    )  # fmt: skip
    p = np.asarray(res.p_listed, dtype=float) if k > 0 else np.zeros(n)  # an empty list: nobody listed
    return (
        p,
        np.asarray(res.rank_lo).astype(np.int64),
        np.asarray(res.rank_hi).astype(np.int64),
    )


# --- the rater bootstrap ------------------------------------------------------------------

#: Stream id mixed into the seed of the rater bootstrap (the weight draws use the seed alone).
_RATER_STREAM = 0x52415452
#: Elements per chunk of draws (bounds the memory of the bootstrap temporaries).
_CHUNK_CELLS = 1 << 22


@dataclass(frozen=True)
class RaterBootstrap:
    """What the rater bootstrap of one province needs (built by :func:`rater_bootstrap`).

    Attributes
    ----------
    app_ids : ndarray of str, shape (n,)
        The province's candidates (sorted), rows of ``scores``.
    scores : ndarray, shape (n, k)
        Criterion scores 0–100 (NaN = N/A) as scored, rubric criterion order.
    weights, dim_of, dim_weights, dimensions
        The arguments of :func:`evalkit.scoring.evaluate_arrays` and the dimension ids of its
        columns.
    panel_of : ndarray of int, shape (n,)
        Row of ``values`` holding the candidate's panel (−1: no panel).
    values : ndarray, shape (p, R, J)
        Final-round rater scores 0–10 after conflict removal (NaN = not scored / padding).
    n_raters : ndarray of int, shape (p,)
        Raters of each panel (filled slots of ``values``).
    columns : ndarray of int, shape (J,)
        Column of ``scores`` of each panel criterion.
    live : ndarray of bool, shape (n, J)
        Cells scored from the panel (evidence ``ok``): the ones a draw re-reduces.  N/A,
        waived and insufficient cells keep their score.
    to_score : tuple of callables, length J
        The criterion's scoring rule (panel rating → 0–100, the rubric's ``likert`` rule).
    reducer : str
        The profile's panel reducer (a name in :data:`evalkit.panel.REDUCERS`).
    """

    app_ids: np.ndarray
    scores: np.ndarray
    weights: np.ndarray
    dim_of: np.ndarray
    dim_weights: np.ndarray
    dimensions: tuple[str, ...]
    panel_of: np.ndarray
    values: np.ndarray
    n_raters: np.ndarray
    columns: np.ndarray
    live: np.ndarray
    to_score: tuple[Callable[[np.ndarray], np.ndarray], ...]
    reducer: str

    @property
    def n_panels(self) -> int:
        """Candidates with at least one cell the bootstrap resamples."""
        return int(((self.panel_of >= 0) & self.live.any(axis=1)).sum())


def _positions(col: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value of ``col`` in ``index`` (−1 if absent); fast on categoricals."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        at = index.get_indexer(col.cat.categories.astype("str"))
        codes = col.cat.codes.to_numpy()
        return np.where(codes >= 0, at[np.clip(codes, 0, None)], -1)
    return index.get_indexer(col.astype("str"))


def rater_bootstrap(
    evaluation: Any, code: str, raters: Any, *, reducer: str = "trimmed_mean"
) -> RaterBootstrap:
    """Collect one province's inputs of the rater bootstrap.

    Parameters
    ----------
    evaluation : evalkit.scoring.Evaluation
        The scored candidates (``criteria`` long table, ``candidates``, ``rubric``).
    code : str
        Province code.
    raters : evalkit.panel.RaterMatrix
        Final-round rater scores per panel (:func:`evalkit.panel.rater_matrix`), of this
        province or of all of them.
    reducer : str, default "trimmed_mean"
        The province profile's ``panel.reducer``.

    Returns
    -------
    RaterBootstrap
    """
    from . import panel as _panel

    _panel.get_reducer(reducer, func="rater_bootstrap")
    for name, attr in (("evaluation", "criteria"), ("raters", "values")):
        obj = evaluation if name == "evaluation" else raters
        if not hasattr(obj, attr):
            raise TypeError(
                f"The '{name}' parameter of rater_bootstrap must be "
                f"{'an Evaluation (scoring.evaluate)' if name == 'evaluation' else 'a RaterMatrix (panel.rater_matrix)'}; "
                f"got {type(obj).__name__} instead."
            )
    code = str(code)
    rub = evaluation.rubric
    crits = rub.criteria
    dims = tuple(d.id for d in rub.dimensions)
    missing = [d for d in DIMENSIONS if d not in dims]
    if missing:
        raise ValueError(
            f"The 'evaluation' parameter of rater_bootstrap must use a rubric with the dimensions "
            f"{list(DIMENSIONS)}; got one without {missing} instead."
        )
    cand = evaluation.candidates
    in_code = cand["province_code"].astype("str").eq(code)
    app_ids = np.sort(cand.loc[in_code, "app_id"].astype("str").unique())
    app_index = pd.Index(app_ids)
    crit_ids = pd.Index([c.id for c in crits])
    n, k = app_ids.size, len(crits)

    long = evaluation.criteria
    sel = long.loc[(long["province_code"] == code).to_numpy(dtype=bool)]
    rows = _positions(sel["app_id"], app_index)
    cols = _positions(sel["criterion_id"], crit_ids)
    ok = (rows >= 0) & (cols >= 0)
    score = sel["score"].to_numpy(dtype=float, na_value=np.nan)
    scores = np.full((n, k), np.nan)
    scores[rows[ok], cols[ok]] = score[ok]
    panel_cell = (
        sel["source"].astype("str").eq("panel") & sel["evidence"].astype("str").eq("ok")
    ).to_numpy()
    live_all = np.zeros((n, k), dtype=bool)
    live_all[rows[ok], cols[ok]] = panel_cell[ok] & ~np.isnan(score[ok])

    in_prov = np.flatnonzero(raters.panels["province_code"].astype("str").eq(code).to_numpy())
    pan_crit = [j for j, c in enumerate(crits) if c.source == "panel" and c.id in raters.criteria]
    mat_col = np.array([raters.criteria.index(crits[j].id) for j in pan_crit], dtype=np.int64)
    n_r = np.asarray(raters.n_raters)[in_prov]
    width = int(n_r.max()) if n_r.size else 0
    values = (
        np.asarray(raters.values)[in_prov][:, :width][:, :, mat_col]
        if n_r.size
        else np.zeros((0, 0, len(pan_crit)))
    )
    panel_of = pd.Index(raters.panels["app_id"].astype("str").to_numpy()[in_prov]).get_indexer(app_ids)
    columns = np.array(pan_crit, dtype=np.int64)
    live = live_all[:, columns] & (panel_of >= 0)[:, None]
    dim_index = {d: i for i, d in enumerate(dims)}
    return RaterBootstrap(
        app_ids=app_ids,
        scores=scores,
        weights=np.array([c.weight for c in crits], dtype=float),
        dim_of=np.array([dim_index[c.dimension] for c in crits], dtype=np.int64),
        dim_weights=np.array([d.weight for d in rub.dimensions], dtype=float),
        dimensions=dims,
        panel_of=panel_of.astype(np.int64),
        values=values.astype(float),
        n_raters=n_r.astype(np.int64),
        columns=columns,
        live=live,
        to_score=tuple(crits[j].score for j in pan_crit),
        reducer=str(reducer),
    )


class _PaddedGroups:
    """Stand-in for a ``SeriesGroupBy`` whose groups are the columns of a NaN-padded (R, G)
    array (R rater slots, G groups), so the panel's registered reducers run unchanged as array
    reductions.  Offers the groupby built-ins they use (``count, sum, min, max, mean,
    median``), NaN-skipping like pandas.  Slots on the first axis: a reduction is R − 1
    elementwise passes over contiguous rows, not G short reductions."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a
        self._have = ~np.isnan(a)
        self._n = self._have.sum(axis=0)

    def count(self) -> pd.Series:
        return pd.Series(self._n)

    def _sum(self) -> np.ndarray:
        return np.where(self._have, self._a, 0.0).sum(axis=0)

    def sum(self) -> pd.Series:
        return pd.Series(self._sum())

    def min(self) -> pd.Series:
        return pd.Series(np.fmin.reduce(self._a, axis=0))

    def max(self) -> pd.Series:
        return pd.Series(np.fmax.reduce(self._a, axis=0))

    def mean(self) -> pd.Series:
        s = self._sum()
        return pd.Series(np.divide(s, self._n, out=np.full(s.shape, np.nan), where=self._n > 0))

    def median(self) -> pd.Series:
        srt = np.sort(self._a, axis=0)  # NaN last
        n, last = self._n, max(self._a.shape[0] - 1, 0)
        lo = np.take_along_axis(srt, np.clip((n - 1) // 2, 0, last)[None, :], axis=0)[0]
        hi = np.take_along_axis(srt, np.clip(n // 2, 0, last)[None, :], axis=0)[0]
        return pd.Series(np.where(n > 0, (lo + hi) / 2.0, np.nan))


def _reduce_slots(a: np.ndarray, reducer: str) -> np.ndarray:
    """Reduce each column of a NaN-padded (R, G) array with the panel reducer ``reducer``."""
    from . import panel as _panel

    fn = _panel.get_reducer(reducer, func="rater_bootstrap")
    try:
        out = fn(_PaddedGroups(a))  # type: ignore[arg-type]
    except (AttributeError, TypeError):  # a reducer needing another built-in: a real groupby
        r, g = a.shape
        grouped = pd.Series(a.T.reshape(-1)).groupby(np.repeat(np.arange(g), r), sort=True)
        out = fn(grouped).reindex(range(g))
    return np.asarray(out, dtype=float)


def _pick_counts(pick: np.ndarray, slot_used: np.ndarray, r: int) -> np.ndarray:
    """Rater counts (cc, m, r) of picks (cc, m, r): how often each rater slot was drawn in each
    draw and panel (padding slots of ``slot_used`` are not picks)."""
    cc, m, _ = pick.shape
    flat = (np.arange(cc * m, dtype=np.intp)[:, None] * r + pick.reshape(cc * m, r))[
        np.broadcast_to(slot_used[None], pick.shape).reshape(cc * m, r)
    ]
    return np.bincount(flat, minlength=cc * m * r).astype(np.uint8).reshape(cc, m, r)


#: Most rater slots for which min and max come from a table over the subsets of raters drawn.
_SUBSET_SLOTS = 10


class _CountedPanels:
    """The panels' rater scores (m, R, J) (NaN = not scored / padding), reduced per resample
    given as rater counts (draws, m, R) — multinomial counts of a draw with replacement.

    The built-ins of every (draw, panel, criterion) multiset: ``sum = counts @ scores`` and
    ``count = counts @ has_score`` (batched matmuls); min and max over the raters drawn at least
    once, looked up in a per-panel table over the subsets of raters (built once, ±inf
    sentinels, float32 when the scores are float32-exact); the median from the scores sorted
    once per panel and criterion and the counts accumulated in that order.  A rater drawn twice
    counts twice, so the reducers give what they give on the gathered scores; with scores whose
    sums are exact in float64 (integers, halves) the results are identical.
    """

    def __init__(self, vals: np.ndarray) -> None:
        has = ~np.isnan(vals)
        m, r, j = vals.shape
        self._has = has
        self._r = r
        self._v0 = np.where(has, vals, 0.0)  # (m, R, J)
        self._hasf = has.astype(float)
        exact32 = bool(np.array_equal(vals[has].astype(np.float32), vals[has]))
        dt = np.float32 if exact32 else np.float64
        self._lo = np.where(has, vals, np.inf).astype(dt)
        self._hi = np.where(has, vals, -np.inf).astype(dt)
        self._order: np.ndarray | None = None
        self._tables: np.ndarray | None = None
        if r <= _SUBSET_SLOTS:  # min and max of every subset of raters: (m, 2**R, J)
            subsets = np.arange(1 << r)
            t_lo = np.full((m, 1 << r, j), np.inf, dtype=dt)
            t_hi = np.full((m, 1 << r, j), -np.inf, dtype=dt)
            for s in range(r):  # loop over rater slots
                sel = np.flatnonzero((subsets >> s) & 1)
                t_lo[:, sel] = np.minimum(t_lo[:, sel], self._lo[:, s][:, None, :])
                t_hi[:, sel] = np.maximum(t_hi[:, sel], self._hi[:, s][:, None, :])
            self._tables = np.stack([t_lo, t_hi], axis=2)  # (m, 2**R, 2, J)

    def reduce(self, counts: np.ndarray, reducer: str) -> np.ndarray:
        """Reduce every (draw, panel, criterion) with ``reducer``; (cc, m, J) float64.

        The registry's own reducers (mean, median, trimmed mean) run as the same formulas on
        arrays; any other registered reducer runs on :class:`_CountedGroups`.
        """
        from . import panel as _panel

        fn = _panel.get_reducer(reducer, func="rater_bootstrap")
        g = _CountedGroups(self, counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            if fn is _panel._trimmed_mean:
                s, c = g.sums(), g.counts()
                trimmed = (s - g.extreme(True) - g.extreme(False)) / (c - 2)
                return np.where(c >= _panel.TRIM_MIN_RATERS, trimmed, s / c)
            if fn is _panel._mean:
                return g.means()
            if fn is _panel._median:
                return self.median(counts)
        shape = (counts.shape[0], self._v0.shape[0], self._v0.shape[2])
        return np.asarray(fn(g), dtype=float).reshape(shape)  # type: ignore[arg-type]

    def sum(self, counts: np.ndarray) -> np.ndarray:
        cm = np.ascontiguousarray(counts.transpose(1, 0, 2), dtype=float)  # (m, cc, R)
        return np.matmul(cm, self._v0).transpose(1, 0, 2)

    def count(self, counts: np.ndarray) -> np.ndarray:
        cm = np.ascontiguousarray(counts.transpose(1, 0, 2), dtype=float)
        return np.rint(np.matmul(cm, self._hasf)).astype(np.int64).transpose(1, 0, 2)

    def extremes(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Min and max over the raters drawn at least once; NaN when none scored."""
        if self._tables is not None:  # one lookup of the subset drawn: (cc, m, 2, J)
            both = self._tables[np.arange(self._tables.shape[0])[None, :], _drawn_mask(counts)]
            lo, hi = both[:, :, 0].astype(float), both[:, :, 1].astype(float)
        else:
            lo = np.full((counts.shape[0], *self._lo[:, 0].shape), np.inf, dtype=self._lo.dtype)
            hi = np.full(lo.shape, -np.inf, dtype=self._hi.dtype)
            for s in range(self._r):  # loop over rater slots
                drawn = (counts[:, :, s] > 0)[:, :, None]
                np.minimum(lo, self._lo[None, :, s, :], out=lo, where=drawn)
                np.maximum(hi, self._hi[None, :, s, :], out=hi, where=drawn)
            lo, hi = lo.astype(float), hi.astype(float)
        none = np.isinf(lo)  # nothing scored in the resample
        lo[none] = np.nan
        hi[none] = np.nan
        return lo, hi

    def median(self, counts: np.ndarray) -> np.ndarray:
        if self._order is None:
            self._order = np.argsort(self._lo, axis=1, kind="stable")  # (m, R, J), unscored last
            self._sorted = np.take_along_axis(self._v0, self._order, axis=1)
            self._has_sorted = np.take_along_axis(self._has, self._order, axis=1)
        m = counts.shape[1]
        # counts of the sorted raters: (cc, m, R, J)
        cs = counts[:, np.arange(m)[:, None, None], self._order] * self._has_sorted[None]
        cum = np.cumsum(cs, axis=2, dtype=np.int64)
        n = cum[:, :, -1, :]
        lo_at = np.minimum((cum <= ((n - 1) // 2)[:, :, None, :]).sum(axis=2), self._r - 1)
        hi_at = np.minimum((cum <= (n // 2)[:, :, None, :]).sum(axis=2), self._r - 1)
        srt = np.broadcast_to(self._sorted[None], cs.shape)
        lo = np.take_along_axis(srt, lo_at[:, :, None, :], axis=2)[:, :, 0]
        hi = np.take_along_axis(srt, hi_at[:, :, None, :], axis=2)[:, :, 0]
        with np.errstate(invalid="ignore"):
            return np.where(n > 0, (lo + hi) / 2.0, np.nan)


def _drawn_mask(counts: np.ndarray) -> np.ndarray:
    """Bit mask (cc, m) of the rater slots drawn at least once."""
    bits = (np.uint64(1) << np.arange(counts.shape[2], dtype=np.uint64)).astype(np.int64)
    return (counts > 0).astype(np.int64) @ bits


class _CountedGroups:
    """Stand-in for a ``SeriesGroupBy`` over resampled panels given as rater counts (see
    :class:`_CountedPanels`): the groupby built-ins ``count, sum, min, max, mean, median`` of
    every (draw, panel, criterion) multiset, flattened, NaN-skipping like pandas.  The array
    forms (``sums`` …) are computed once each."""

    def __init__(self, panels: _CountedPanels, counts: np.ndarray) -> None:
        self._p = panels
        self._c = counts
        self._memo: dict[str, np.ndarray] = {}

    def _get(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def sums(self) -> np.ndarray:
        return self._get("sum", lambda: self._p.sum(self._c))

    def counts(self) -> np.ndarray:
        return self._get("count", lambda: self._p.count(self._c))

    def extreme(self, low: bool) -> np.ndarray:
        if "min" not in self._memo:
            self._memo["min"], self._memo["max"] = self._p.extremes(self._c)
        return self._memo["min" if low else "max"]

    def means(self) -> np.ndarray:
        s, n = self.sums(), self.counts()
        return np.divide(s, n, out=np.full(s.shape, np.nan), where=n > 0)

    def count(self) -> pd.Series:
        return pd.Series(self.counts().reshape(-1))

    def sum(self) -> pd.Series:
        return pd.Series(self.sums().reshape(-1))

    def min(self) -> pd.Series:
        return pd.Series(self.extreme(True).reshape(-1))

    def max(self) -> pd.Series:
        return pd.Series(self.extreme(False).reshape(-1))

    def mean(self) -> pd.Series:
        return pd.Series(self.means().reshape(-1))

    def median(self) -> pd.Series:
        return pd.Series(self._p.median(self._c).reshape(-1))


def _rater_draws(
    bs: RaterBootstrap, app_ids: np.ndarray, x: np.ndarray, draws: int, seed: int
) -> np.ndarray | None:
    """Replicate dimension matrices (draws, n, 4) in ``DIMENSIONS`` order: in each draw every
    panel's raters are resampled with replacement, the panel scores re-reduced and rescored,
    and the dimension scores recomputed (:func:`evalkit.scoring.evaluate_arrays`, N/A
    redistribution included).  Rows without a resampled cell, and dimensions without a panel
    criterion, repeat ``x``; None when no candidate has a cell to resample.

    Random numbers are drawn per chunk of draws from one generator, for the candidates in
    app-id order: the result depends neither on the chunking nor on the row order.  A draw's
    resample of a panel is held as rater counts (:func:`_pick_counts`) and reduced by
    :class:`_CountedPanels` once for all the panel's criteria; a reducer needing a groupby
    built-in the counts do not offer falls back to gathering the picked scores.
    """
    from .scoring import evaluate_arrays

    rows = pd.Index(bs.app_ids).get_indexer(pd.Index(np.asarray(app_ids, dtype=str)))
    has = rows >= 0
    has[has] = (bs.panel_of[rows[has]] >= 0) & bs.live[rows[has]].any(axis=1)
    tgt = np.flatnonzero(has)
    if tgt.size == 0:
        return None  # nothing to resample: the weight draws alone
    reps = np.repeat(x[None, :, :], draws, axis=0)
    tgt = tgt[np.argsort(rows[tgt], kind="stable")]  # canonical (app id) order
    b = rows[tgt]
    pan = bs.panel_of[b]
    vals, nr = bs.values[pan], bs.n_raters[pan]
    m, r, j_n = vals.shape
    # only the dimensions holding a panel criterion move: score just their criteria
    moved = np.unique(bs.dim_of[bs.columns])
    sub = np.flatnonzero(np.isin(bs.dim_of, moved))
    k = sub.size
    sub_col = np.searchsorted(sub, bs.columns)
    point, live = bs.scores[b][:, sub], bs.live[b]
    out_dims = [i for i, d in enumerate(DIMENSIONS) if bs.dimensions.index(d) in set(moved.tolist())]
    out_pos = [bs.dimensions.index(DIMENSIONS[i]) for i in out_dims]
    # rows (panel, slot) of J scores, plus one all-NaN slot per panel that padding picks use
    padded = np.concatenate([vals, np.full((m, 1, j_n), np.nan)], axis=1).reshape(m * (r + 1), j_n)
    base = np.arange(m, dtype=np.intp) * (r + 1)
    slot_used = np.arange(r)[None, :] < nr[:, None]  # (m, r)
    panels = _CountedPanels(vals)
    rng = np.random.default_rng([int(seed), _RATER_STREAM])
    c = max(1, min(draws, _CHUNK_CELLS // max(m * max(j_n * r, k), 1)))
    for start in range(0, draws, c):  # loop over chunks of draws
        stop = min(draws, start + c)
        cc = stop - start
        pick = (rng.random((cc, m, r)) * nr[None, :, None]).astype(np.intp)
        try:  # the resample as rater counts: every registered reducer
            rating = panels.reduce(_pick_counts(pick, slot_used, r), bs.reducer)
        except (AttributeError, TypeError):  # a reducer needing another built-in: gather the scores
            pick = np.where(slot_used[None], pick, r).transpose(2, 0, 1)  # (r, cc, m)
            grid = np.take(padded, pick + base, axis=0)  # (r, cc, m, J): whole rows of J scores
            rating = _reduce_slots(grid.reshape(r, -1), bs.reducer).reshape(cc, m, j_n)
        s_rep = np.repeat(point[None], cc, axis=0)
        for j in range(j_n):  # loop over panel criteria
            col = sub_col[j]
            new = bs.to_score[j](rating[:, :, j])
            use = live[None, :, j] & ~np.isnan(new)
            s_rep[:, :, col] = np.where(use, new, s_rep[:, :, col])
        dims, _ = evaluate_arrays(
            s_rep.reshape(cc * m, k), bs.weights[sub], bs.dim_of[sub], bs.dim_weights
        )
        d = dims[:, out_pos].reshape(cc, m, len(out_pos))
        reps[start:stop, tgt[:, None], np.array(out_dims)[None, :]] = np.where(np.isnan(d), 0.0, d)
    return reps


# --- the list -----------------------------------------------------------------------------


def recommend(
    candidates: pd.DataFrame,
    rules: ListRules,
    *,
    banned: Collection[str] = (),
    overlapping: Collection[str] = (),
    raters: RaterBootstrap | None = None,
) -> pd.DataFrame:
    """Decide every candidate of one province: recommended, not recommended or excluded.

    Parameters
    ----------
    candidates : DataFrame
        One row per app submitted to the province: ``app_id``, ``provider_id``, ``category``,
        ``stages`` (``;``-list), the four dimension scores, ``total_score``, and optionally
        ``app_name``, ``features``, ``vetoed`` (bool), ``reasons`` (``;``-codes from scoring),
        ``submitted_on`` (tie-break), ``filed_on`` (``NaT`` = not filed).
    rules : ListRules
        The province's list rules.
    banned : collection of str
        Provider ids whose ban is in force (``credit.banned_providers``).
    overlapping : collection of str
        App ids found in an overlapping pair (flagged ``flag:overlap``).
    raters : RaterBootstrap, optional
        The province's panel raters (:func:`rater_bootstrap`).  With
        ``rules.bootstrap_raters`` every robustness draw resamples them; without it (or when
        None) the draws perturb the weights only.

    Returns
    -------
    DataFrame
        The candidates with ``status``, ``rank`` (dense, 1-based, among eligible apps),
        ``score`` (ranking score), ``p_listed``, ``rank_lo``, ``rank_hi``, ``close_call``,
        ``flags`` and ``reasons`` (``;``-codes: scoring's first, then the list's), sorted by
        rank then app id.
    """
    _check_candidates(candidates)
    if not isinstance(rules, ListRules):
        raise TypeError(
            f"The 'rules' parameter of recommend must be a ListRules; got {type(rules).__name__} instead."
        )
    if raters is not None and not isinstance(raters, RaterBootstrap):
        raise TypeError(
            "The 'raters' parameter of recommend must be a RaterBootstrap (rater_bootstrap) or None; "
            f"got {type(raters).__name__} instead."
        )
    df = candidates.copy().reset_index(drop=True)
    idx = df.index
    base = df["reasons"].astype("str").fillna("") if "reasons" in df.columns else pd.Series("", index=idx, dtype="str")
    features = df["features"].astype("str").fillna("") if "features" in df.columns else pd.Series("", index=idx, dtype="str")

    # 1. eligibility
    banned_mask = df["provider_id"].astype("str").isin(set(map(str, banned)))
    if "filed_on" in df.columns:
        not_filed = pd.to_datetime(df["filed_on"]).isna()
    else:
        not_filed = pd.Series(False, index=idx)
    vetoed = df["vetoed"].fillna(False).astype(bool) if "vetoed" in df.columns else pd.Series(False, index=idx)
    extra = _join(
        [
            pd.Series(np.where(not_filed & ~_has_prefix(base, {"not_filed"}), "not_filed", ""), index=idx),
            pd.Series(np.where(banned_mask, "provider_blacklisted", ""), index=idx),
        ],
        idx,
    )
    reasons = _join([base, extra], idx)
    excluded = (vetoed | _has_prefix(reasons, EXCLUDING_PREFIXES)).to_numpy()

    # 2. ranking among eligible apps
    x_all = df[list(DIMENSIONS)].to_numpy(dtype=float)
    x_all = np.where(np.isnan(x_all), 0.0, x_all)  # a dimension with no applicable criterion
    elig = np.flatnonzero(~excluded)
    rank = np.full(len(df), -1, dtype=np.int64)
    score = np.full(len(df), np.nan)
    if elig.size:
        s, r = _rank(x_all[elig], rules, df.iloc[elig])
        score[elig], rank[elig] = s, r

    # 3. minimum scores
    below_parts = []
    below = np.zeros(len(df), dtype=bool)
    if rules.min_total_score is not None:
        m = ~excluded & (df["total_score"].to_numpy(dtype=float) < float(rules.min_total_score))
        below |= m
        below_parts.append(pd.Series(np.where(m, "below_min_total", ""), index=idx))
    for dim in DIMENSIONS:
        if dim in rules.min_dimension_score:
            m = ~excluded & (df[dim].to_numpy(dtype=float) < rules.min_dimension_score[dim])
            below |= m
            below_parts.append(pd.Series(np.where(m, f"below_min:{dim}", ""), index=idx))

    # 4. greedy construction over qualified apps in rank order
    qual = np.flatnonzero(~excluded & ~below)
    qual = qual[np.lexsort((df["app_id"].astype("str").to_numpy()[qual], rank[qual]))]
    accepted_q, cap_codes = _build(df.iloc[qual], rules)
    recommended = np.zeros(len(df), dtype=bool)
    recommended[qual[accepted_q]] = True
    cap_reason = pd.Series("", index=idx, dtype="str")
    cap_reason.iloc[qual] = cap_codes.to_numpy()

    status = np.where(excluded, "excluded", np.where(recommended, "recommended", "not_recommended"))
    reasons = _join([reasons, *below_parts, cap_reason], idx)

    # 5. robustness over the eligible apps; k = the list's size
    p = np.full(len(df), np.nan)
    lo = np.full(len(df), -1, dtype=np.int64)
    hi = np.full(len(df), -1, dtype=np.int64)
    if elig.size:
        # in rank order (a total order): ties within a draw resolve the same whatever the row order
        ordered = elig[np.argsort(rank[elig], kind="stable")]
        x_draws = None
        if raters is not None and rules.bootstrap_raters:
            app_ids = df["app_id"].astype("str").to_numpy()[ordered]
            x_draws = _rater_draws(raters, app_ids, x_all[ordered], rules.draws, rules.seed)
        pe, le, he = _robustness(x_all[ordered], rules, int(recommended.sum()), x_draws)
        p[ordered], lo[ordered], hi[ordered] = pe, le, he
        p[below] = 0.0  # a below-minimum app cannot be listed whatever the weights
    p[excluded] = 0.0
    close = ~excluded & ~below & (p >= 0.2) & (p <= 0.8)

    flags = _join(
        [
            pd.Series(np.where(features.str.contains(r"(?:^|;)admissions_exams(?:;|$)", regex=True),
                               "flag:third_party_admissions", ""), index=idx),
            pd.Series(np.where(close, "flag:close_call", ""), index=idx),
            pd.Series(np.where(df["app_id"].astype("str").isin(set(map(str, overlapping))), "flag:overlap", ""),
                      index=idx),
        ],
        idx,
    )  # fmt: skip
    df["status"] = pd.Series(status, index=idx, dtype="str")
    df["rank"] = _positive_or_na(rank).array
    df["score"] = score
    df["p_listed"] = p
    df["rank_lo"] = _positive_or_na(lo).array
    df["rank_hi"] = _positive_or_na(hi).array
    df["close_call"] = close
    df["flags"] = flags
    df["reasons"] = reasons
    not_ok = df["status"].ne("recommended") & df["reasons"].eq("")
    if not_ok.any():  # pragma: no cover - a guard on the contract, not reachable by design
        raise RuntimeError(f"internal error: apps without reasons: {df.loc[not_ok, 'app_id'].tolist()}")
    order = np.lexsort((df["app_id"].astype("str").to_numpy(), np.where(rank > 0, rank, np.iinfo(np.int64).max)))
    return df.iloc[order].reset_index(drop=True)


def _build(q: pd.DataFrame, rules: ListRules) -> tuple[np.ndarray, pd.Series]:
    """Greedy list over the qualified apps ``q`` (in rank order); cap reason codes per app."""
    n = len(q)
    idx = pd.RangeIndex(n)
    if n == 0:
        return np.zeros(0, dtype=bool), pd.Series([], dtype="str")
    cat = q["category"].astype("str").fillna("").to_numpy()
    cats = np.unique(cat)
    cat_code = np.searchsorted(cats, cat)
    single: list[tuple[np.ndarray, np.ndarray]] = []
    names: list[str] = []
    # total
    total_cap = np.inf if rules.max_total is None else float(rules.max_total)
    single.append((np.zeros(n, dtype=np.int64), np.array([total_cap])))
    names.append("total")
    # category
    cat_caps = np.array([float(rules.max_per_category.get(c, np.inf)) for c in cats])
    single.append((cat_code, cat_caps))
    names.append("category")
    # provider share of a category's places
    if rules.provider_share_cap is not None:
        places = np.minimum(cat_caps, total_cap)
        counts = np.bincount(cat_code, minlength=cats.size).astype(float)
        places = np.where(np.isinf(places), counts, places)
        share_caps_by_cat = np.maximum(np.ceil(rules.provider_share_cap * places - 1e-9), 1.0)
        pair = q["provider_id"].astype("str").to_numpy() + "\x1f" + cat
        pairs, pair_code = np.unique(pair, return_inverse=True)
        pair_cat = np.searchsorted(cats, np.array([p.split("\x1f", 1)[1] for p in pairs]))
        single.append((pair_code.astype(np.int64), share_caps_by_cat[pair_cat]))
        names.append("provider")
    # stages (multi-label)
    multi: list[tuple[np.ndarray, np.ndarray]] = []
    stage_cols: list[str] = []
    if rules.max_per_stage:
        stage_cols = sorted(rules.max_per_stage)
        stages = q["stages"].astype("str").fillna("")
        member = np.column_stack(
            [stages.str.contains(rf"(?:^|;){re.escape(s)}(?:;|$)", regex=True).to_numpy() for s in stage_cols]
        )
        multi.append((member, np.array([float(rules.max_per_stage[s]) for s in stage_cols])))
    accepted, blocked_s, blocked_m = greedy_select(single, multi)
    parts = []
    for name, blocked in zip(names, blocked_s):
        if name == "total":
            code = np.full(n, "cap:total", dtype=object)
        elif name == "category":
            code = ("cap:category:" + pd.Series(cat)).to_numpy(dtype=object)
        else:
            code = np.full(n, "cap:provider_share", dtype=object)
        parts.append(pd.Series(np.where(blocked, code, ""), index=idx, dtype="str"))
    if multi:
        for j, s in enumerate(stage_cols):  # loop over stage codes
            parts.append(pd.Series(np.where(blocked_m[0][:, j], f"cap:stage:{s}", ""), index=idx, dtype="str"))
    # order: total, category, stage, provider share
    if rules.provider_share_cap is not None:
        parts = parts[:2] + parts[3:] + [parts[2]]
    return accepted, _join(parts, idx)


# --- changes since the previous list ------------------------------------------------------


def _unneutralise(s: pd.Series) -> pd.Series:
    """Undo the export's formula neutralisation of a text cell read back from a CSV."""
    return s.astype("str").fillna("").str.replace(r"^'(?=[\t\r]|\s*[=+\-@])", "", regex=True)


def diff_with_previous(decisions: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Compare a province's decisions with the previous published list.

    Parameters
    ----------
    decisions : DataFrame
        This run's decisions (``app_id``, ``app_name``, ``status``, ``reasons``).
    previous : DataFrame or None
        The previous run's ``decisions.csv`` (at least ``app_id`` and ``status``; ``app_name``
        is used for apps no longer submitted).  ``None`` = no previous list: everything
        recommended is ``added``.

    Returns
    -------
    DataFrame
        ``app_id, app_name, change, reason`` for every app recommended now or before:
        ``added``/``kept`` (reason empty) or ``opted_out`` with ``failed_reevaluation``,
        ``blacklisted``, ``assessment_expired`` or ``withdrawn``; sorted by change then app id.
    """
    for name, frame in (("decisions", decisions), ("previous", previous)):
        if frame is None:
            continue
        if not isinstance(frame, pd.DataFrame) or not {"app_id", "status"} <= set(frame.columns):
            raise ValueError(
                f"The '{name}' parameter of diff_with_previous must be a DataFrame with 'app_id' and "
                f"'status' columns; got {type(frame).__name__} instead."
            )
    cur = decisions.copy()
    cur["app_id"] = cur["app_id"].astype("str")
    now = cur.loc[cur["status"].eq("recommended"), "app_id"]
    if previous is None:
        before = pd.Series([], dtype="str")
        prev = pd.DataFrame({"app_id": pd.Series([], dtype="str"), "app_name": pd.Series([], dtype="str")})
    else:
        prev = previous.copy()
        prev["app_id"] = prev["app_id"].astype("str")
        if "app_name" not in prev.columns:
            prev["app_name"] = ""
        prev["app_name"] = _unneutralise(prev["app_name"])
        before = prev.loc[prev["status"].astype("str").eq("recommended"), "app_id"]
    ids = pd.Index(sorted(set(now) | set(before)), dtype="str")
    out = pd.DataFrame({"app_id": ids})
    in_now = out["app_id"].isin(set(now))
    in_before = out["app_id"].isin(set(before))
    out["change"] = np.where(in_now & in_before, "kept", np.where(in_now, "added", "opted_out"))
    cur_i = cur.drop_duplicates("app_id").set_index("app_id")
    names_now = cur_i["app_name"].astype("str") if "app_name" in cur_i.columns else pd.Series(dtype="str")
    names_prev = prev.drop_duplicates("app_id").set_index("app_id")["app_name"].astype("str")
    out["app_name"] = out["app_id"].map(names_now).fillna(out["app_id"].map(names_prev)).fillna("")
    r = out["app_id"].map(cur_i["reasons"].astype("str") if "reasons" in cur_i.columns else pd.Series(dtype="str"))
    present = out["app_id"].isin(set(cur_i.index))
    r = r.fillna("")
    blacklisted = _has_prefix(r, {"provider_blacklisted"})
    expired = _has_prefix(r, {"stale_assessment"}) | r.str.contains(
        r"(?:^|;)veto:L04_mlps_evaluation_current(?:;|$)", regex=True
    )
    reason = np.select(
        [~present, blacklisted, expired],
        ["withdrawn", "blacklisted", "assessment_expired"],
        default="failed_reevaluation",
    )
    out["reason"] = np.where(out["change"].eq("opted_out"), reason, "")
    out = out.astype({"app_id": "str", "app_name": "str", "change": "str", "reason": "str"})
    return out.sort_values(["change", "app_id"], kind="stable").reset_index(drop=True)[
        ["app_id", "app_name", "change", "reason"]
    ]
