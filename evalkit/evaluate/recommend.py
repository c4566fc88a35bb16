"""The provincial recommended list: eligibility, ranking, greedy list under caps, changes.

Section (9) of the 2019 Opinions asks each province to publish a recommended list; section (10)
to control its size; section (11) forbids a single app or provider monopolising a business and
says admissions/exam/score apps are run by education departments in principle; section (16)
asks for an opt-out (exit) mechanism.  This module turns scored candidates into that list.

For one province (see :func:`recommend`):

1. **Eligibility** (gates before scores).  A candidate is ``excluded`` when it failed a veto
   item or a panel floor, lacks evidence, has a stale assessment or an insufficient panel (all
   reason codes from :mod:`evalkit.evaluate.scoring`), is not filed (``not_filed``), or its provider's
   ban is in force (``provider_blacklisted``).  Excluded apps are never ranked.
2. **Ranking** of the eligible apps by the profile's method (weighted sum or TOPSIS over the
   four dimension scores, :mod:`evalkit.mcda.rank`) with the tie-break chain: score, security,
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
integration candidate, :mod:`evalkit.evaluate.overlap`).

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
from threadpoolctl import threadpool_limits

from evalkit.errors import require_frame
from evalkit.i18n import VOCABULARIES
from evalkit.mcda.methods import batch_scores
from evalkit.mcda.robustness import ROBUSTNESS_QUANTILES, rank_quantiles, weight_draws
from evalkit.mcda.robustness import close_call as _near_even
from evalkit.evaluate.selection import DIMENSIONS, Pool, Selection, as_caps, select

__all__ = [
    "CHANGE_REASONS",
    "DECISION_COLUMNS",
    "DIMENSIONS",
    "EXCLUDING_PREFIXES",
    "STATUSES",
    "ListRules",
    "RaterBootstrap",
    "diff_with_previous",
    "rater_bootstrap",
    "reason_text",
    "reasons_text",
    "recommend",
]

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
    "failed_check": ("未通过登记核查（已扣分，非否决项）：{x}", "registry check failed (points deducted, not a veto): {x}"),
    "cap:category": ("该类别推荐数已满：{x}", "category cap reached: {x}"),
    "cap:stage": ("该学段推荐数已满：{x}", "stage cap reached: {x}"),
    "below_min": ("维度得分低于最低要求：{x}", "dimension score below the minimum: {x}"),
}
#: Codes carrying figures (a recommended app's rank, margin and places): ``prefix:a/b`` read
#: with ``{a}`` and ``{b}``, ``place:category:<c>:a/b`` with the category's word as ``{c}``.
_FIGURES: dict[str, tuple[str, str]] = {
    "ranked": ("在{b}个合格候选应用中排名第{a}", "ranked {a} of {b} eligible candidates"),
    "margin:min_total": ("总分高于最低推荐分{a}分", "total score {a} points above the minimum for the list"),
    "place:total": ("占推荐名单第{a}个名额（共{b}个）", "place {a} of {b} on the list"),
    "place:category": ("占{c}类第{a}个名额（共{b}个）", "place {a} of {b} in the category {c}"),
}
#: The pattern prefixes, longest first (``cap:category`` before a shorter one it starts with).
_PREFIXES = sorted(_PATTERNS, key=len, reverse=True)
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
    figures = _figure_text(code, i)
    if figures is not None:
        return figures
    for prefix in _PREFIXES:
        if code.startswith(prefix + ":"):
            x = code[len(prefix) + 1 :]
            label = _LABELS.get(prefix, names or {}).get(x)
            return _PATTERNS[prefix][i].format(x=label[i] if label else x)
    return code


def _figure_text(code: str, i: int) -> str | None:
    """The words for a code of :data:`_FIGURES` (None for any other code)."""
    prefix, _, rest = code.rpartition(":")
    c = ""
    if prefix.startswith("place:category:"):
        prefix, c = "place:category", prefix[len("place:category:"):]
        c = VOCABULARIES["category"].get(c, (c, c))[i]
    if prefix not in _FIGURES:
        return None
    a, _, b = rest.partition("/")
    return _FIGURES[prefix][i].format(a=a, b=b, c=c)


def reasons_text(
    codes: pd.Series,
    lang: str = "zh",
    names: Mapping[str, tuple[str, str]] | None = None,
    registry: Mapping[str, tuple[str, str]] | None = None,
) -> pd.Series:
    """:func:`reason_text` over ``;``-joined codes, each distinct combination translated once.

    Codes of one pattern are said once: ``stale_assessment:A;stale_assessment:B`` reads
    "评估结果已过有效期：A、B".
    """
    s = codes.astype("str").fillna("")
    text = {combo: _combo_text(combo, lang, names, registry) for combo in s.unique()}  # distinct combinations
    return s.map(text).astype("str")


def _combo_text(
    combo: str, lang: str, names: Mapping[str, tuple[str, str]] | None,
    registry: Mapping[str, tuple[str, str]] | None,
) -> str:
    """The words for one ``;``-joined combination of reason codes (see :func:`reasons_text`)."""
    i = 0 if lang == "zh" else 1
    groups: dict[str, tuple[bool, list[str]]] = {}  # key -> (fixed, words), in order of appearance
    for code in combo.split(";"):  # the codes of one combination
        if not code:
            continue
        prefix = next((p for p in _PREFIXES if code.startswith(p + ":")), None)
        if prefix is None or (registry and code in registry) or code in REASONS or _figure_text(code, i):
            groups.setdefault(code, (True, []))[1].append(reason_text(code, lang, names, registry))
        else:
            x = code[len(prefix) + 1 :]
            label = _LABELS.get(prefix, names or {}).get(x) or (x, x)
            groups.setdefault(prefix, (False, []))[1].append(label[i])
    join, sep = ("、", "；") if lang == "zh" else (", ", "; ")
    return sep.join(
        join.join(words) if fixed else _PATTERNS[key][i].format(x=join.join(words))
        for key, (fixed, words) in groups.items()
    )


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


def _only_codes(reasons: pd.Series, codes: frozenset[str]) -> np.ndarray:
    """Apps whose excluding reason codes are all in ``codes`` (and that have one)."""
    if not codes:
        return np.zeros(len(reasons), dtype=bool)
    split = reasons.astype("str").fillna("").str.split(";")
    gates = split.map(lambda cs: [c for c in cs if c.split(":", 1)[0] in EXCLUDING_PREFIXES])
    return gates.map(lambda cs: bool(cs) and all(c in codes for c in cs)).to_numpy(dtype=bool)


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
        The arguments of :func:`evalkit.evaluate.scoring.evaluate_arrays` and the dimension ids of its
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
        The profile's panel reducer (a name in :data:`evalkit.evaluate.panel.REDUCERS`).
    criterion_ids : tuple of str, length J
        The panel criteria.
    gates : tuple, length J
        Per panel criterion, the province's veto on it (a panel floor, or a profile veto) as a
        function of the 0–100 scores giving the mask of cells that fail it, or None: a draw
        re-decides these gates from its resampled scores, as scoring decides them.
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
    criterion_ids: tuple[str, ...] = ()
    gates: tuple[Callable[[np.ndarray], np.ndarray] | None, ...] = ()
    #: The panel floors' reason codes (``panel_floor:<id>``): an app excluded by these alone
    #: may pass them in a draw.
    floor_codes: frozenset[str] = frozenset()

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


def _equals(col: pd.Series, value: str) -> np.ndarray:
    """``col.astype(str) == value`` as a bool array, without converting every row to a string
    (categoricals compare their codes)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        hit = np.flatnonzero(col.cat.categories.astype("str") == value)
        return np.isin(col.cat.codes.to_numpy(), hit)
    if isinstance(col.dtype, pd.StringDtype):
        return col.eq(value).fillna(False).to_numpy(dtype=bool)
    return col.astype("str").eq(value).to_numpy(dtype=bool)


def rater_bootstrap(
    evaluation: Any, code: str, raters: Any, *, reducer: str = "trimmed_mean"
) -> RaterBootstrap:
    """Collect one province's inputs of the rater bootstrap.

    Parameters
    ----------
    evaluation : evalkit.evaluate.scoring.Evaluation
        The scored candidates (``criteria`` long table, ``candidates``, and the province's
        weights ``rubric_for(code)``).
    code : str
        Province code.
    raters : evalkit.evaluate.panel.RaterMatrix
        Final-round rater scores per panel (:func:`evalkit.evaluate.panel.rater_matrix`), of this
        province or of all of them.
    reducer : str, default "trimmed_mean"
        The province profile's ``panel.reducer``.

    Returns
    -------
    RaterBootstrap
    """
    from evalkit.evaluate import panel as _panel

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
    rub = evaluation.rubric_for(code) if hasattr(evaluation, "rubric_for") else evaluation.rubric
    crits = rub.criteria
    dims = tuple(d.id for d in rub.dimensions)
    missing = [d for d in DIMENSIONS if d not in dims]
    if missing:
        raise ValueError(
            f"The 'evaluation' parameter of rater_bootstrap must use a rubric with the dimensions "
            f"{list(DIMENSIONS)}; got one without {missing} instead."
        )
    cand = evaluation.candidates
    in_code = _equals(cand["province_code"], code)
    app_ids = np.sort(cand.loc[in_code, "app_id"].astype("str").unique())
    app_index = pd.Index(app_ids)
    crit_ids = pd.Index([c.id for c in crits])
    n, k = app_ids.size, len(crits)

    long = evaluation.criteria
    sel = long.loc[_equals(long["province_code"], code)]
    rows = _positions(sel["app_id"], app_index)
    cols = _positions(sel["criterion_id"], crit_ids)
    ok = (rows >= 0) & (cols >= 0)
    score = sel["score"].to_numpy(dtype=float, na_value=np.nan)
    scores = np.full((n, k), np.nan)
    scores[rows[ok], cols[ok]] = score[ok]
    panel_cell = _equals(sel["source"], "panel") & _equals(sel["evidence"], "ok")
    live_all = np.zeros((n, k), dtype=bool)
    live_all[rows[ok], cols[ok]] = panel_cell[ok] & ~np.isnan(score[ok])

    in_prov = np.flatnonzero(_equals(raters.panels["province_code"], code))
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
        criterion_ids=tuple(crits[j].id for j in pan_crit),
        gates=tuple(_gate(crits[j], evaluation, code) for j in pan_crit),
        floor_codes=frozenset(f"panel_floor:{crits[j].id}" for j in pan_crit
                              if crits[j].veto is not None and crits[j].veto.when == "below"),
    )


def _gate(c: Any, evaluation: Any, code: str) -> Callable[[np.ndarray], np.ndarray] | None:
    """The province's veto on panel criterion ``c`` as a mask function of 0–100 scores."""
    from evalkit.evaluate.scoring import profile_veto

    profile = getattr(evaluation, "profiles", {}).get(code)
    extra = c.id in tuple(getattr(profile, "extra_vetoes", ()) or ())
    if c.veto is None and not extra:
        return None
    veto = c.veto or profile_veto()
    return lambda scores: veto.triggered(scores, c.scoring_rule, c.params)


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
    from evalkit.evaluate import panel as _panel

    fn = _panel.get_reducer(reducer, func="rater_bootstrap")
    try:
        out = fn(_PaddedGroups(a))  # type: ignore[arg-type]
    except (AttributeError, TypeError):  # a reducer needing another built-in: a real groupby
        r, g = a.shape
        grouped = pd.Series(a.T.reshape(-1)).groupby(np.repeat(np.arange(g), r), sort=True)
        out = fn(grouped).reindex(range(g))
    return np.asarray(out, dtype=float)


def _pick_counts(pick: np.ndarray, slot_used: np.ndarray, r: int) -> np.ndarray:
    """Rater counts (m, cc, r) of picks (m, cc, r): how often each rater slot was drawn in each
    panel and draw (padding slots of ``slot_used`` (m, r) are not picks)."""
    m, cc, _ = pick.shape
    flat = (np.arange(m * cc, dtype=np.intp)[:, None] * r + pick.reshape(m * cc, r))[
        np.broadcast_to(slot_used[:, None, :], pick.shape).reshape(m * cc, r)
    ]
    return np.bincount(flat, minlength=m * cc * r).astype(np.uint8).reshape(m, cc, r)


#: Most rater slots for which min and max come from a table over the subsets of raters drawn.
_SUBSET_SLOTS = 10


class _CountedPanels:
    """The panels' rater scores (m, R, J) (NaN = not scored / padding), reduced per resample
    given as rater counts (m, draws, R) — multinomial counts of a draw with replacement.

    The built-ins of every (panel, draw, criterion) multiset: sum and count in one batched
    matmul ``counts @ [scores | has_score]``; min and max over the raters drawn at least once,
    looked up in a per-panel table over the subsets of raters (built on first use by doubling,
    ±inf sentinels); the median from the scores sorted once per panel and criterion and the
    counts accumulated in that order.  The trimmed mean looks up ``min + max`` of the subset in
    one table.  A rater drawn twice counts twice, so the reducers give what they give on the
    gathered scores; with scores whose sums are exact in float64 (integers, halves) the results
    are identical.
    """

    def __init__(self, vals: np.ndarray) -> None:
        has = ~np.isnan(vals)
        self._shape = vals.shape
        self._has = has
        self._v0 = np.where(has, vals, 0.0)  # (m, R, J)
        self._both = np.concatenate([self._v0, has.astype(float)], axis=2)  # (m, R, 2J)
        self._lo = np.where(has, vals, np.inf)
        self._hi = np.where(has, vals, -np.inf)
        self._memo: dict[str, Any] = {}

    def _tables(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Min and max of every subset of raters, (m, 2**R, J) each (bit s of the subset index
        = slot s); None beyond :data:`_SUBSET_SLOTS` slots."""
        if "tables" not in self._memo:
            m, r, j = self._shape
            lo, hi = np.full((m, 1, j), np.inf), np.full((m, 1, j), -np.inf)
            if r <= _SUBSET_SLOTS:
                for s in range(r):  # loop over rater slots: the subsets with slot s appended
                    lo = np.concatenate([lo, np.minimum(lo, self._lo[:, s : s + 1])], axis=1)
                    hi = np.concatenate([hi, np.maximum(hi, self._hi[:, s : s + 1])], axis=1)
            self._memo["tables"] = (lo, hi) if r <= _SUBSET_SLOTS else None
        return self._memo["tables"]

    def reduce(self, counts: np.ndarray, reducer: str) -> np.ndarray:
        """Reduce every (panel, draw, criterion) with ``reducer``; (m, cc, J) float64.

        The registry's own reducers (mean, median, trimmed mean) run as the same formulas on
        arrays; any other registered reducer runs on :class:`_CountedGroups`.
        """
        from evalkit.evaluate import panel as _panel

        fn = _panel.get_reducer(reducer, func="rater_bootstrap")
        g = _CountedGroups(self, counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            if fn is _panel._trimmed_mean:
                s, c = g.sums(), g.counts()
                trim = c >= _panel.TRIM_MIN_RATERS  # drop min and max: (s - lo - hi) / (c - 2)
                return (s - np.where(trim, g.edges(), 0.0)) / (c - 2.0 * trim)
            if fn is _panel._mean:
                return g.means()
            if fn is _panel._median:
                return self.median(counts)
        shape = (*counts.shape[:2], self._shape[2])
        return np.asarray(fn(g), dtype=float).reshape(shape)  # type: ignore[arg-type]

    def sums_counts(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sum and count (as floats) of the scores drawn, (m, cc, J) each."""
        both = np.matmul(counts.astype(float), self._both)
        j = self._shape[2]
        return both[..., :j], both[..., j:]

    def extremes(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Min and max over the raters drawn at least once, ±inf when none scored."""
        tables = self._tables()
        if tables is not None:  # one lookup of the subset drawn
            return self._lookup(tables[0], counts), self._lookup(tables[1], counts)
        lo = np.full((*counts.shape[:2], self._shape[2]), np.inf)
        hi = np.full(lo.shape, -np.inf)
        for s in range(self._shape[1]):  # loop over rater slots
            drawn = (counts[:, :, s] > 0)[:, :, None]
            np.minimum(lo, self._lo[:, s][:, None, :], out=lo, where=drawn)
            np.maximum(hi, self._hi[:, s][:, None, :], out=hi, where=drawn)
        return lo, hi

    @staticmethod
    def _lookup(table: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Rows (m, cc, J) of a subset table (m, 2**R, J) for the subsets drawn."""
        m, n_sub, j = table.shape
        at = np.arange(m)[:, None] * n_sub + _drawn_mask(counts)
        return np.take(table.reshape(m * n_sub, j), at, axis=0)  # row gather: faster than t[i, k]

    def edges(self, counts: np.ndarray) -> np.ndarray:
        """``min + max`` of the scores drawn (0 when none scored), (m, cc, J)."""
        tables = self._tables()
        if tables is not None:
            if "edges" not in self._memo:
                with np.errstate(invalid="ignore"):
                    both = tables[0] + tables[1]
                self._memo["edges"] = np.where(np.isnan(both), 0.0, both)
            return self._lookup(self._memo["edges"], counts)
        lo, hi = self.extremes(counts)
        return np.where(np.isinf(lo), 0.0, lo + np.where(np.isinf(hi), 0.0, hi))

    def median(self, counts: np.ndarray) -> np.ndarray:
        if "order" not in self._memo:
            order = np.argsort(self._lo, axis=1, kind="stable")  # (m, R, J), unscored last
            self._memo["order"] = (order, np.take_along_axis(self._v0, order, axis=1),
                                   np.take_along_axis(self._has, order, axis=1))
        order, srt, has = self._memo["order"]
        m, cc, r = counts.shape
        # counts of the sorted raters: (m, cc, R, J)
        cs = counts[np.arange(m)[:, None, None, None], np.arange(cc)[None, :, None, None],
                    order[:, None]] * has[:, None]
        cum = np.cumsum(cs, axis=2, dtype=np.int64)
        n = cum[:, :, -1, :]
        lo_at = np.minimum((cum <= ((n - 1) // 2)[:, :, None, :]).sum(axis=2), r - 1)
        hi_at = np.minimum((cum <= (n // 2)[:, :, None, :]).sum(axis=2), r - 1)
        srt = np.broadcast_to(srt[:, None], cs.shape)
        lo = np.take_along_axis(srt, lo_at[:, :, None, :], axis=2)[:, :, 0]
        hi = np.take_along_axis(srt, hi_at[:, :, None, :], axis=2)[:, :, 0]
        with np.errstate(invalid="ignore"):
            return np.where(n > 0, (lo + hi) / 2.0, np.nan)


def _drawn_mask(counts: np.ndarray) -> np.ndarray:
    """Bit mask (m, cc) of the rater slots drawn at least once (bit s = slot s)."""
    return (counts > 0) @ (np.intp(1) << np.arange(counts.shape[2], dtype=np.intp))


class _CountedGroups:
    """Stand-in for a ``SeriesGroupBy`` over resampled panels given as rater counts (see
    :class:`_CountedPanels`): the groupby built-ins ``count, sum, min, max, mean, median`` of
    every (panel, draw, criterion) multiset, flattened, NaN-skipping like pandas.  The array
    forms (``sums`` …) are computed once each."""

    def __init__(self, panels: _CountedPanels, counts: np.ndarray) -> None:
        self._p = panels
        self._c = counts
        self._memo: dict[str, np.ndarray] = {}

    def _sums_counts(self) -> None:
        if "sum" not in self._memo:
            self._memo["sum"], self._memo["count"] = self._p.sums_counts(self._c)

    def sums(self) -> np.ndarray:
        self._sums_counts()
        return self._memo["sum"]

    def counts(self) -> np.ndarray:
        self._sums_counts()
        return self._memo["count"]

    def edges(self) -> np.ndarray:
        return self._p.edges(self._c)

    def extreme(self, low: bool) -> np.ndarray:
        if "min" not in self._memo:
            lo, hi = self._p.extremes(self._c)
            none = np.isinf(lo)  # nothing scored in the resample
            self._memo["min"] = np.where(none, np.nan, lo)
            self._memo["max"] = np.where(none, np.nan, hi)
        return self._memo["min" if low else "max"]

    def means(self) -> np.ndarray:
        s, n = self.sums(), self.counts()
        return np.divide(s, n, out=np.full(s.shape, np.nan), where=n > 0)

    def count(self) -> pd.Series:
        return pd.Series(self.counts().reshape(-1).astype(np.int64))

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


@dataclass(frozen=True)
class RaterDraws:
    """The rater bootstrap's draws: dimension matrices ``x`` (draws, n, 4) and ``gate_fail``
    (draws, n), the apps failing a panel gate (:attr:`RaterBootstrap.gates`) in each draw."""

    x: np.ndarray
    gate_fail: np.ndarray


def _rater_draws(
    bs: RaterBootstrap, app_ids: np.ndarray, x: np.ndarray, draws: int, seed: int,
    point_fail: np.ndarray | None = None,
) -> RaterDraws | None:
    """Replicate dimension matrices (draws, n, 4) in ``DIMENSIONS`` order: in each draw every
    panel's raters are resampled with replacement, the panel scores re-reduced and rescored,
    and the dimension scores recomputed (weighted means with N/A redistribution, as
    :func:`evalkit.evaluate.scoring.evaluate_arrays`).  Rows without a resampled cell, and dimensions
    without a panel criterion, repeat ``x``; None when no candidate has a cell to resample.
    Each draw also re-decides the panel gates from the resampled scores; rows without a
    resampled cell keep ``point_fail`` (default: none fails).

    Random numbers are drawn per chunk of draws from one generator, for the candidates in
    app-id order: the result depends neither on the chunking nor on the row order.  A draw's
    resample of a panel is held as rater counts (:func:`_pick_counts`) and reduced by
    :class:`_CountedPanels` once for all the panel's criteria; a reducer needing a groupby
    built-in the counts do not offer falls back to gathering the picked scores.  Only the J
    panel criteria change between draws: each candidate's weighted sums over its other
    criteria are computed once, and a draw adds the panel criteria's share.
    """
    from evalkit.evaluate.scoring import dimension_sums, weighted_means

    rows = pd.Index(bs.app_ids).get_indexer(pd.Index(np.asarray(app_ids, dtype=str)))
    has = rows >= 0
    has[has] = (bs.panel_of[rows[has]] >= 0) & bs.live[rows[has]].any(axis=1)
    tgt = np.flatnonzero(has)
    if tgt.size == 0:
        return None  # nothing to resample: the weight draws alone
    reps = np.repeat(x[None, :, :], draws, axis=0)
    fail = np.zeros(len(app_ids), dtype=bool) if point_fail is None else np.asarray(point_fail, dtype=bool)
    gate_fail = np.repeat(fail[None, :], draws, axis=0)
    gates = [(j, g) for j, g in enumerate(bs.gates) if g is not None]
    tgt = tgt[np.argsort(rows[tgt], kind="stable")]  # canonical (app id) order
    b = rows[tgt]
    pan = bs.panel_of[b]
    vals, nr = bs.values[pan], bs.n_raters[pan]
    m, r, j_n = vals.shape
    # the dimensions holding a panel criterion move, in DIMENSIONS order
    moved = set(bs.dim_of[bs.columns].tolist())
    out_dims = np.array([i for i, d in enumerate(DIMENSIONS) if bs.dimensions.index(d) in moved])
    out_pos = [bs.dimensions.index(DIMENSIONS[i]) for i in out_dims]
    # weighted sums over the criteria that do not move (m, D), and the panel criteria's weights
    fixed = np.ones(bs.weights.size, dtype=bool)
    fixed[bs.columns] = False
    f_num, f_den = dimension_sums(np.where(fixed, bs.scores[b], np.nan), bs.weights, bs.dim_of,
                                  bs.dim_weights.size)  # fmt: skip
    f_num, f_den = f_num[:, out_pos].T[:, :, None], f_den[:, out_pos].T[:, :, None]  # (D, m, 1)
    onehot = np.zeros((j_n, bs.dim_weights.size))
    onehot[np.arange(j_n), bs.dim_of[bs.columns]] = bs.weights[bs.columns]
    w_panel = onehot[:, out_pos].T  # (D, J)
    point = bs.scores[b][:, bs.columns].T[:, :, None]  # (J, m, 1)
    live = bs.live[b].T[:, :, None]
    # rows (panel, slot) of J scores, plus one all-NaN slot per panel that padding picks use
    padded = np.concatenate([vals, np.full((m, 1, j_n), np.nan)], axis=1).reshape(m * (r + 1), j_n)
    base = np.arange(m, dtype=np.intp) * (r + 1)
    slot_used = np.arange(r)[None, :] < nr[:, None]  # (m, r)
    panels = _CountedPanels(vals)
    rng = np.random.default_rng([int(seed), _RATER_STREAM])
    c = max(1, min(draws, _CHUNK_CELLS // max(m * j_n * r, 1)))
    for start in range(0, draws, c):  # loop over chunks of draws
        stop = min(draws, start + c)
        cc = stop - start
        pick = (rng.random((cc, m, r)) * nr[None, :, None]).astype(np.intp).transpose(1, 0, 2)
        try:  # the resample as rater counts: every registered reducer
            rating = panels.reduce(_pick_counts(pick, slot_used, r), bs.reducer)  # (m, cc, J)
        except (AttributeError, TypeError):  # a reducer needing another built-in: gather the scores
            pick = np.where(slot_used[:, None], pick, r).transpose(2, 1, 0)  # (r, cc, m)
            grid = np.take(padded, pick + base, axis=0)  # (r, cc, m, J): whole rows of J scores
            rating = _reduce_slots(grid.reshape(r, -1), bs.reducer).reshape(cc, m, j_n).transpose(1, 0, 2)
        rating = np.ascontiguousarray(rating.transpose(2, 0, 1))  # (J, m, cc)
        new = np.stack([bs.to_score[j](rating[j]) for j in range(j_n)])  # loop over panel criteria
        val = np.where(live & ~np.isnan(new), new, point)
        failed = np.zeros(val.shape[1:], dtype=bool)  # (m, cc)
        for j, gate in gates:  # loop over the gated panel criteria (a handful)
            failed |= live[j] & gate(val[j])
        gate_fail[start:stop, tgt] = failed.T
        have = ~np.isnan(val)
        num = f_num + np.tensordot(w_panel, np.where(have, val, 0.0), axes=1)  # (D, m, cc)
        den = f_den + np.tensordot(w_panel, have.astype(float), axes=1)
        d = weighted_means(num, den)
        reps[start:stop, tgt[:, None], out_dims[None, :]] = np.where(np.isnan(d), 0.0, d).transpose(2, 1, 0)
    return RaterDraws(reps, gate_fail)


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

    # 2-4. the list procedure: minimum scores, ranking, caps.  The pool holds the eligible
    # apps and, when the raters are resampled, the apps whose only gate is one a draw
    # re-decides (a panel floor): they may pass it in some draws.
    x_all = df[list(DIMENSIONS)].to_numpy(dtype=float)
    x_all = np.where(np.isnan(x_all), 0.0, x_all)  # a dimension with no applicable criterion
    boot = raters if raters is not None and rules.bootstrap_raters else None
    redecided = _only_codes(reasons, boot.floor_codes) if boot else np.zeros(len(df), dtype=bool)
    in_pool = np.flatnonzero(~excluded | redecided)
    pool = Pool.from_frame(df.iloc[in_pool], caps := as_caps(rules))
    w = np.array([rules.weights[d] for d in DIMENSIONS])
    x_pool = x_all[in_pool]
    elig_point = ~excluded[in_pool][None, :]
    score = np.full(len(df), np.nan)
    s_point = batch_scores(x_pool, w[None], rules.method, mask=elig_point)
    score[in_pool] = np.where(elig_point[0], s_point[0], np.nan)
    point = select(x_pool[None], w[None], pool, caps, eligible=elig_point, explain=True, score=s_point,
                   total=df["total_score"].to_numpy(dtype=float)[in_pool][None])
    rank = np.full(len(df), -1, dtype=np.int64)
    rank[in_pool] = np.where(elig_point[0], point.ranks()[0], -1)
    recommended = np.zeros(len(df), dtype=bool)
    recommended[in_pool] = point.listed[0]
    status = np.where(excluded, "excluded", np.where(recommended, "recommended", "not_recommended"))
    reasons = _join([reasons, _list_reasons(point, pool, rules, df, in_pool)], idx)

    # 5. robustness: the same procedure in every draw (weights and raters resampled)
    p = np.zeros(len(df))
    lo = np.full(len(df), -1, dtype=np.int64)
    hi = np.full(len(df), -1, dtype=np.int64)
    if in_pool.size:
        # many small matrix products: BLAS threads cost more than they give (2x the CPU time
        # measured on 2 cores)
        with threadpool_limits(limits=1, user_api="blas"):
            drawn_raters = None
            if boot is not None:
                drawn_raters = _rater_draws(boot, df["app_id"].astype("str").to_numpy()[in_pool], x_pool,
                                            rules.draws, rules.seed, point_fail=~elig_point[0])
            wd = weight_draws(w, rules.draws, rules.concentration, np.random.default_rng(rules.seed))
            if drawn_raters is None:
                x_d = np.broadcast_to(x_pool, (rules.draws, *x_pool.shape))
                eligible = np.broadcast_to(elig_point, x_d.shape[:2])
                s_d = batch_scores(x_pool, wd, rules.method, mask=None if eligible.all() else eligible)
            else:
                x_d, eligible = drawn_raters.x, ~drawn_raters.gate_fail
                s_d = batch_scores(x_d, wd, rules.method, mask=None if eligible.all() else eligible)
            drawn = select(x_d, wd, pool, caps, eligible=eligible, score=s_d)
        p[in_pool] = drawn.listed.mean(axis=0)
        lo[in_pool], hi[in_pool] = rank_quantiles(drawn.ranks(), ROBUSTNESS_QUANTILES, mask=drawn.eligible)
    lo[excluded], hi[excluded] = -1, -1  # an excluded app is not ranked
    contradicted = np.where(recommended, p < 0.5, p > 0.5)
    close = (_near_even(p) & (~excluded | redecided)) | contradicted

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
    not_ok = df["reasons"].eq("")
    if not_ok.any():  # pragma: no cover - a guard on the contract, not reachable by design
        raise RuntimeError(f"internal error: apps without reasons: {df.loc[not_ok, 'app_id'].tolist()}")
    order = np.lexsort((df["app_id"].astype("str").to_numpy(), np.where(rank > 0, rank, np.iinfo(np.int64).max)))
    return df.iloc[order].reset_index(drop=True)


def _codes(mask: np.ndarray, code: Any, n: int) -> pd.Series:
    """``code`` (a string or one per row) where ``mask``, else ``""``."""
    return pd.Series(np.where(mask, code, ""), index=pd.RangeIndex(n), dtype="str")


def _list_reasons(point: Selection, pool: Pool, rules: ListRules, df: pd.DataFrame,
                  elig: np.ndarray) -> pd.Series:
    """The list's reason codes of every eligible app of the point decision, in report order.

    Not recommended: ``below_min_total``, ``below_min:<dimension>``, then every cap full at
    its turn (``cap:total``, ``cap:category:<c>``, ``cap:stage:<s>``, ``cap:provider_share``).
    Recommended: ``ranked:<r>/<n>`` (its rank among the n eligible apps), the margin over the
    minimum total (``margin:min_total:<points>``) and the places it took
    (``place:total:<k>/<cap>``, ``place:category:<c>:<k>/<cap>``) where the list is capped.
    """
    n = pool.n
    listed = point.listed[0]
    rank = point.ranks()[0]
    cat = pool.categories[pool.category]
    parts = [_codes(point.below_total[0], "below_min_total", n)]
    parts += [_codes(point.below_dimension[0][:, i], f"below_min:{d}", n) for i, d in enumerate(DIMENSIONS)]
    parts += [_codes(point.full_total[0], "cap:total", n),
              _codes(point.full_category[0], "cap:category:" + cat.astype(object), n)]
    parts += [_codes(point.full_stage[0][:, j], f"cap:stage:{s}", n) for j, s in enumerate(pool.stage_names)]
    parts.append(_codes(point.full_share[0], "cap:provider_share", n))
    # recommended: rank, score margin, places taken (counted in rank order)
    n_eligible = int(point.eligible[0].sum())
    parts.append(_codes(listed, [f"ranked:{r}/{n_eligible}" for r in rank], n))
    if rules.min_total_score is not None:
        margin = df["total_score"].to_numpy(dtype=float)[elig] - float(rules.min_total_score)
        parts.append(_codes(listed & ~np.isnan(margin), [f"margin:min_total:{m:.1f}" for m in margin], n))
    in_order = listed[point.order[0]]
    place = np.empty(n, dtype=np.int64)
    place[point.order[0]] = np.cumsum(in_order)
    if rules.max_total is not None:
        parts.append(_codes(listed, [f"place:total:{k}/{rules.max_total}" for k in place], n))
    cat_place = np.empty(n, dtype=np.int64)
    ordered_cat = pool.category[point.order[0]]
    cat_place[point.order[0]] = _running_count(ordered_cat, in_order)
    capped = np.array([c in rules.max_per_category for c in cat], dtype=bool)
    parts.append(_codes(listed & capped, [
        f"place:category:{c}:{k}/{rules.max_per_category.get(c, 0)}" for c, k in zip(cat, cat_place)], n))
    out = pd.Series("", index=df.index, dtype="str")
    out.iloc[elig] = _join(parts, pd.RangeIndex(n)).to_numpy()
    return out


def _running_count(codes: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """Per position, how many hits of its code occurred up to and including it."""
    out = np.zeros(codes.size, dtype=np.int64)
    for c in np.unique(codes):  # loop over categories
        at = codes == c
        out[at] = np.cumsum(hit[at])
    return out


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
