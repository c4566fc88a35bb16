"""The dataset contract (v1 and its v2 additions) as data: tables, columns, types, codes and cross-table rules.

docs/dataset.md states the contract in prose; this module states it once as data so that the
loader (:mod:`evalkit.data.dataset`), the generator and the documentation agree.  Nothing here
reads files.

Column kinds
------------
``id``        identifier, stripped text (``str``)
``text``      free text kept as given (``str``)
``province``  a provincial unit code ``11`` … ``65`` or ``66`` (``str``)
``date``      ISO ``YYYY-MM-DD`` (``datetime64[us]``, ``NaT`` when empty)
``bool``      yes/no in the spellings of :data:`BOOL_SPELLINGS` (pandas ``boolean``)
``int``       integer (``Int64``)
``float``     number (``float64``)
``code``      one code of ``Column.codes`` (``str``, lower case)
``list``      ``;``-separated codes of ``Column.codes`` (canonical ``str``)
``idlist``    ``;``-separated identifiers (canonical ``str``: stripped, unique, sorted)
``age_range`` ``a-b`` (text kept; parsed to ``age_min``/``age_max``)
``value``     an assessment value: number, yes/no or ``meets/partial/fails/na``
``saaty``     a Saaty judgment ``1/9`` … ``9``, fractions such as ``1/3`` accepted
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from evalkit.data.identifiers import PROVINCE_CODES

Kind = Literal[
    "id", "text", "province", "date", "bool", "int", "float", "code", "list", "idlist",
    "age_range", "value", "saaty",
]
Severity = Literal["error", "warning"]

CONTRACT_VERSION = 1

#: Accepted spellings of booleans (compared after stripping and lower-casing).
BOOL_SPELLINGS: dict[str, bool] = {
    "true": True, "false": False,
    "yes": True, "no": False,
    "y": True, "n": False,
    "1": True, "0": False,
    "t": True, "f": False,
    "是": True, "否": False,
    "真": True, "假": False,
    "有": True, "无": False,
}

#: List separators: the ASCII ``;`` and the full-width ``；`` typed by Chinese input methods.
LIST_SEPARATORS: tuple[str, ...] = (";", "；")

CATEGORIES = ("teaching", "management", "learning", "life", "home_school")
STAGES = ("preschool", "primary", "junior", "senior", "vocational", "higher", "continuing")
K12_STAGES = ("primary", "junior", "senior")
USERS = ("students", "teachers", "parents")
FEATURES = ("ugc", "training", "admissions_exams", "payments", "face_data")
ROLES = ("government", "school", "university", "industry", "parent", "student")
COMPLAINT_CATEGORIES = ("fees", "ads", "forced_use", "privacy", "harmful_content", "function", "other")
SEVERITIES = ("minor", "major", "serious")
DIMENSIONS = ("legality", "function", "security", "content")
AHP_LEVELS = ("dimensions", *DIMENSIONS)
ASSESSMENT_WORDS: dict[str, float] = {"meets": 1.0, "partial": 0.5, "fails": 0.0, "na": float("nan")}

MLPS_LEVELS = (1, 5)
PANEL_SCORE_RANGE = (0.0, 10.0)
AGE_RANGE = (0, 25)
SAATY_RANGE = (1 / 9, 9.0)
#: Decimal spellings of reciprocals are accepted down to this (``0.11`` for ``1/9``).
SAATY_TOLERANCE = 0.005


@dataclass(frozen=True)
class Column:
    """One required column of a contract table.

    Attributes
    ----------
    name : column name in the file header.
    kind : see the module docstring.
    nullable : whether an empty cell is allowed.
    codes : allowed codes for ``code`` and ``list`` columns (in canonical order).
    low, high : inclusive range for ``int``/``float`` columns (``None`` = open).
    low_open : the lower bound is exclusive (``daily_limit_min > 0``).
    event : for dates: an event date, which may not lie after ``as_of``.
    identifier : ``uscc``, ``icp``, ``telecom``, ``app_filing``, ``school_id`` or ``county``:
        format checked by :mod:`evalkit.data.identifiers` (the last two against the row's
        ``province_code``, or the school's).
    optional : a contract v2 addition: a file without the column stays valid (the column is
        then empty); when present it is checked like any other.
    """

    name: str
    kind: Kind
    nullable: bool = False
    codes: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    event: bool = False
    identifier: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class Table:
    """One file of the dataset: its stem, columns and unique keys."""

    name: str
    required: bool
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    natural_keys: tuple[tuple[str, ...], ...] = ()
    description: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Reference:
    """``table.column`` must name an existing ``target.target_column`` (lists: every item)."""

    table: str
    column: str
    target: str
    target_column: str
    severity: Severity = "error"


@dataclass(frozen=True)
class DateOrder:
    """``table.later`` must not be before ``table.earlier`` when both are set."""

    table: str
    later: str
    earlier: str
    severity: Severity = "error"


def _c(name: str, kind: Kind, **kw: object) -> Column:
    return Column(name, kind, **kw)  # type: ignore[arg-type]


# --- schools (issue 18; docs/dataset.md "Schools"): optional tables, checked like every table ---
SCHOOL_KINDS = ("public", "private")
DECISION_BODIES = ("school_meeting", "principal_office", "party_committee", "education_department", "none")
SCHOOL_TABLES: tuple[Table, ...] = (
    Table(
        "schools", False,
        (
            Column("school_id", "id", identifier="school_id"),  # 学校标识码, 10 digits
            Column("name", "text"),
            Column("province_code", "province"),
            Column("county_code", "id", identifier="county"),  # GB/T 2260, 6 digits, in the province
            Column("stages", "list", codes=STAGES),
            Column("kind", "code", codes=SCHOOL_KINDS),
        ),
        key=("school_id",),
        description="one row per school",
    ),
    Table(
        "selections", False,
        (
            Column("school_id", "id", identifier="school_id"),
            Column("app_id", "id"),
            Column("decided_on", "date", event=True),
            Column("decision_body", "code", codes=DECISION_BODIES),
            Column("stakeholders_consulted", "bool"),
            Column("content_review_on", "date", nullable=True, event=True),
            Column("security_review_on", "date", nullable=True, event=True),
            Column("unified_use", "bool"),
            Column("charges_students", "bool"),
            Column("exclusive_agreement", "bool"),
            Column("reported_on", "date", nullable=True, event=True),
            Column("responsible_unit", "text", nullable=True),
            Column("withdrawn_on", "date", nullable=True, event=True),
            # beyond the list: a unified-use app tied to credits, grades or evaluation
            Column("tied_to_grades", "bool", nullable=True, optional=True),
        ),
        natural_keys=(("school_id", "app_id", "decided_on"),),
        description="one row per school's decision to use one app",
    ),
)
SCHOOL_REFERENCES: tuple[Reference, ...] = (
    Reference("selections", "school_id", "schools", "school_id"),
    # an app that is not filed at all is a finding of the school rules (used without filing)
    Reference("selections", "app_id", "apps", "app_id", severity="warning"),
)
SCHOOL_DATE_ORDERS: tuple[DateOrder, ...] = (
    DateOrder("selections", "withdrawn_on", "decided_on"),
    DateOrder("selections", "reported_on", "decided_on", severity="warning"),
)


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "providers", True,
            (
                _c("provider_id", "id", identifier="uscc"),
                _c("name", "text"),
                _c("province_code", "province"),
                _c("legal_rep", "text", nullable=True),
                _c("icp_number", "id", nullable=True, identifier="icp"),
                _c("telecom_licence", "id", nullable=True, identifier="telecom"),
                _c("mlps_level", "int", nullable=True, low=MLPS_LEVELS[0], high=MLPS_LEVELS[1]),
                _c("mlps_filing_no", "id", nullable=True),
                _c("mlps_evaluated_on", "date", nullable=True, event=True),
            ),
            key=("provider_id",),
            description="one row per provider",
        ),
        Table(
            "apps", True,
            (
                _c("app_id", "id", identifier="app_filing"),
                _c("provider_id", "id"),
                _c("name", "text"),
                _c("version", "text", nullable=True),
                _c("category", "code", codes=CATEGORIES),
                _c("stages", "list", nullable=True, codes=STAGES),
                _c("primary_users", "list", nullable=True, codes=USERS),
                _c("minors_primary", "bool"),
                _c("features", "list", nullable=True, codes=FEATURES),
                _c("charges_fees", "bool"),
                _c("has_ads", "bool"),
                _c("has_games", "bool"),
                _c("age_range", "age_range", nullable=True, low=AGE_RANGE[0], high=AGE_RANGE[1]),
                _c("daily_limit_min", "int", nullable=True, low=0, low_open=True),
                _c("filed_on", "date", event=True),
                _c("info_updated_on", "date", nullable=True, event=True),
                _c("last_release_on", "date", nullable=True, event=True),
                _c("description", "text", nullable=True),
                # v2 (issue 18): the school (school_id) or department that built the app itself
                _c("self_developed_by", "text", nullable=True, optional=True),
            ),
            key=("app_id",),
            description="one row per app (one filing)",
        ),
        Table(
            "submissions", False,
            (
                _c("app_id", "id"),
                _c("province_code", "province"),
                _c("submitted_on", "date", event=True),
                _c("mandated_use", "bool"),
                _c("batch", "text", nullable=True),
            ),
            natural_keys=(("province_code", "app_id"),),
            description="one row per app submitted to a province's review",
        ),
        Table(
            "assessments", False,
            (
                _c("app_id", "id"),
                _c("criterion_id", "id"),
                _c("value", "value"),
                _c("assessed_on", "date", event=True),
                _c("assessor", "text", nullable=True),
                _c("report_ref", "text", nullable=True),
            ),
            natural_keys=(("app_id", "criterion_id", "assessed_on"),),
            description="one row per third-party finding on one criterion",
        ),
        Table(
            "experts", False,
            (
                _c("expert_id", "id"),
                _c("name", "text"),
                _c("role", "code", codes=ROLES),
                _c("province_code", "province"),
                _c("conflicts", "idlist", nullable=True),
            ),
            key=("expert_id",),
            description="one row per panel member",
        ),
        Table(
            "panel_scores", False,
            (
                _c("province_code", "province"),
                _c("round", "int", low=1),
                _c("app_id", "id"),
                _c("expert_id", "id"),
                _c("criterion_id", "id"),
                _c("score", "float", low=PANEL_SCORE_RANGE[0], high=PANEL_SCORE_RANGE[1]),
                _c("scored_on", "date", event=True),
            ),
            natural_keys=(("province_code", "round", "app_id", "expert_id", "criterion_id"),),
            description="one row per expert score of one criterion of one app",
        ),
        Table(
            "ahp_judgments", False,
            (
                _c("expert_id", "id"),
                _c("level", "code", codes=AHP_LEVELS),
                _c("a", "id"),
                _c("b", "id"),
                _c("value", "saaty", low=SAATY_RANGE[0], high=SAATY_RANGE[1]),
                # v2: the province whose weights the judgment informs (empty: the expert's)
                _c("province_code", "province", nullable=True, optional=True),
            ),
            natural_keys=(("province_code", "expert_id", "level", "a", "b"),),
            description="one row per pairwise judgment of one expert",
        ),
        Table(
            "complaints", False,
            (
                _c("complaint_id", "id"),
                _c("app_id", "id"),
                _c("received_on", "date", event=True),
                _c("channel", "text", nullable=True),
                _c("category", "code", codes=COMPLAINT_CATEGORIES),
                _c("substantiated", "bool", nullable=True),
                _c("resolved_on", "date", nullable=True, event=True),
                _c("contact", "text", nullable=True),
                _c("text", "text", nullable=True),
            ),
            key=("complaint_id",),
            description="one row per complaint",
        ),
        Table(
            "violations", False,
            (
                _c("violation_id", "id"),
                _c("provider_id", "id"),
                _c("app_id", "id", nullable=True),
                _c("found_on", "date", event=True),
                _c("type", "text", nullable=True),
                _c("severity", "code", codes=SEVERITIES),
                _c("fraud", "bool"),
                _c("rectify_by", "date", nullable=True),
                _c("rectified_on", "date", nullable=True, event=True),
            ),
            key=("violation_id",),
            description="one row per inspection finding or sanction",
        ),
        Table(
            "waivers", False,
            (
                _c("app_id", "id"),
                _c("criterion_id", "id"),
                _c("reason", "text"),
                _c("approved_by", "text"),
                _c("approved_on", "date", event=True),
                _c("expires_on", "date", nullable=True),
                # v2: the approving province (empty: national, only where profiles allow it)
                _c("province_code", "province", nullable=True, optional=True),
            ),
            natural_keys=(("province_code", "app_id", "criterion_id", "approved_on"),),
            description="one row per documented exception to one check",
        ),
        *SCHOOL_TABLES,
    )
}

# -- due process (issue 17): objections to a public notice and their re-checks ---------------
# (docs/dataset.md "Objections and re-checks"; `text` and `contact` are personal data, never published)
OBJECTION_FROM = ("public", "parent", "school", "provider", "expert", "other")
OBJECTION_GROUNDS = ("content", "privacy", "fees", "ads", "forced_use", "scoring_error", "conflict_of_interest",
                     "other")
RECHECK_OUTCOMES = ("upheld", "partly_upheld", "rejected")
#: Optional tables whose absence is no warning (a dataset without schools is complete; most provinces
#: hold no notice at a given date).
QUIET_WHEN_ABSENT = (*(t.name for t in SCHOOL_TABLES), "objections", "rechecks", "sanction_statements",
                     "credit_repairs")
TABLES.update({t.name: t for t in (
    Table("objections", False, (
        _c("objection_id", "id"), _c("province_code", "province"), _c("app_id", "id"),
        _c("notice_date", "date", event=True), _c("received_on", "date", event=True),
        _c("from_kind", "code", codes=OBJECTION_FROM), _c("grounds", "code", codes=OBJECTION_GROUNDS),
        _c("text", "text", nullable=True), _c("contact", "text", nullable=True),
    ), key=("objection_id",), description="one row per objection to a province's public notice"),
    Table("rechecks", False, (
        _c("objection_id", "id"), _c("decided_on", "date", event=True),
        _c("outcome", "code", codes=RECHECK_OUTCOMES), _c("decided_by", "text"), _c("note", "text", nullable=True),
    ), key=("objection_id",), description="one row per re-check decision on an objection"),
    Table("sanction_statements", False, (
        _c("provider_id", "id"), _c("province_code", "province"), _c("notified_on", "date", event=True),
        _c("received_on", "date", event=True), _c("kind", "code", codes=("statement", "hearing")),
        _c("outcome", "code", codes=("accepted", "rejected", "pending")), _c("decided_on", "date", nullable=True,
                                                                            event=True),
    ), natural_keys=(("province_code", "provider_id", "notified_on", "received_on"),),
        description="one row per statement or hearing request after a sanction notice"),
    Table("credit_repairs", False, (
        _c("provider_id", "id"), _c("province_code", "province"), _c("applied_on", "date", event=True),
        _c("rectification_ref", "text"), _c("decided_on", "date", nullable=True, event=True),
        _c("outcome", "code", codes=("approved", "rejected", "pending")),
    ), natural_keys=(("province_code", "provider_id", "applied_on"),),
        description="one row per application for credit repair"),
)})

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n, t in TABLES.items() if t.required)

#: Cross-table references.  Criterion references are checked against the rubric's ids.
REFERENCES: tuple[Reference, ...] = (
    Reference("apps", "provider_id", "providers", "provider_id"),
    Reference("submissions", "app_id", "apps", "app_id"),
    Reference("panel_scores", "app_id", "apps", "app_id"),
    Reference("panel_scores", "expert_id", "experts", "expert_id"),
    Reference("assessments", "app_id", "apps", "app_id"),
    Reference("complaints", "app_id", "apps", "app_id"),
    Reference("violations", "provider_id", "providers", "provider_id"),
    Reference("violations", "app_id", "apps", "app_id"),
    Reference("waivers", "app_id", "apps", "app_id"),
    Reference("ahp_judgments", "expert_id", "experts", "expert_id"),
    Reference("experts", "conflicts", "providers", "provider_id", severity="warning"),
    *SCHOOL_REFERENCES,
    Reference("objections", "app_id", "apps", "app_id"),
    Reference("rechecks", "objection_id", "objections", "objection_id"),
    Reference("sanction_statements", "provider_id", "providers", "provider_id"),
    Reference("credit_repairs", "provider_id", "providers", "provider_id"),
)

#: Columns holding criterion ids (checked against ``criteria`` when known).
CRITERION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("assessments", "criterion_id"),
    ("panel_scores", "criterion_id"),
    ("waivers", "criterion_id"),
)

#: Logical order of dates inside one row.
DATE_ORDERS: tuple[DateOrder, ...] = (
    DateOrder("apps", "info_updated_on", "filed_on", severity="warning"),
    DateOrder("complaints", "resolved_on", "received_on"),
    DateOrder("violations", "rectified_on", "found_on"),
    DateOrder("violations", "rectify_by", "found_on"),
    DateOrder("waivers", "expires_on", "approved_on"),
    *SCHOOL_DATE_ORDERS,
    DateOrder("objections", "received_on", "notice_date"),
    DateOrder("sanction_statements", "received_on", "notified_on"),
    DateOrder("sanction_statements", "decided_on", "received_on"),
    DateOrder("credit_repairs", "decided_on", "applied_on"),
)

__all__ = [
    "AGE_RANGE",
    "AHP_LEVELS",
    "ASSESSMENT_WORDS",
    "BOOL_SPELLINGS",
    "CATEGORIES",
    "COMPLAINT_CATEGORIES",
    "CONTRACT_VERSION",
    "CRITERION_COLUMNS",
    "DATE_ORDERS",
    "DECISION_BODIES",
    "DIMENSIONS",
    "FEATURES",
    "K12_STAGES",
    "LIST_SEPARATORS",
    "MLPS_LEVELS",
    "OBJECTION_FROM",
    "OBJECTION_GROUNDS",
    "PANEL_SCORE_RANGE",
    "PROVINCE_CODES",
    "QUIET_WHEN_ABSENT",
    "REFERENCES",
    "RECHECK_OUTCOMES",
    "REQUIRED_TABLES",
    "ROLES",
    "SAATY_RANGE",
    "SCHOOL_KINDS",
    "SCHOOL_TABLES",
    "SEVERITIES",
    "STAGES",
    "TABLES",
    "TABLE_NAMES",
    "USERS",
    "Column",
    "DateOrder",
    "Reference",
    "Table",
]
