"""``evalkit notice``: the public notice (公示) of a province's draft list before it is published.

The province is evaluated as ``evalkit run`` would on ``as_of`` (same data, rubric, profile and
register history) and the draft is published into ``OUT/<as_of>/<code>/notice/``:

* ``notice.html`` — the draft list, then the apps not selected and the excluded ones with their
  reasons, the notice period and where and how to object (Chinese by default, English with
  ``lang="en"``; every value escaped; offline, no script needed);
* ``notice.csv`` — the columns of ``decisions.csv`` (formula-neutralised, deterministic);
* ``notice.json`` — ``province_code``, ``as_of``, ``notice_working_days``, ``notice_ends_on``
  (``as_of`` plus the profile's ``due_process.notice_working_days`` working days, counted with
  the calendar ``rubrics/calendar/cn.yaml``) and ``objections`` (until when, where and how, the
  accepted grounds and objector kinds).

The files are staged in ``OUT/.staging-<as_of>-<pid>/`` (cleaned up by the next publish or
notice if this one is killed), fsync'ed, the notice is recorded in the register (``notices``),
then the folder is moved into place; an error before the move leaves nothing.  A ``run`` or
``publish`` of the province dated on or before ``notice_ends_on`` is then refused
(:func:`evalkit.evaluate.record.check_notice_period`).
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit import resources
from evalkit.data import exports
from evalkit.data.register import Register
from evalkit.errors import PublishError
from evalkit.evaluate.province import DECISIONS_EXPORT, ProvinceResult
from evalkit.i18n import separator, t, word, words
from evalkit.publish.markup import definition_list, heading, paragraph
from evalkit.publish.render import page
from evalkit.publish.staging import (
    OutputLock,
    move_into_place,
    os_errors,
    recover_leftovers,
    staging_folder,
    sync_tree,
)
from evalkit.publish.tables import table
from evalkit.rubric import profile_value
from evalkit.rubric.calendar import load_calendar

__all__ = ["FROM_KINDS", "GROUNDS", "NoticeResult", "notice_payload", "publish_notice", "write_notice"]

#: Who may object, and on which grounds (the codes of the ``objections`` table, docs/dataset.md).
FROM_KINDS = ("public", "parent", "school", "provider", "expert", "other")
GROUNDS = ("content", "privacy", "fees", "ads", "forced_use", "scoring_error", "conflict_of_interest", "other")
#: Columns of the notice page's tables.
_LISTED = ["rank", "app_name", "app_id", "provider_name", "category", "stages", "total_score"]
_OTHERS = ["app_name", "app_id", "provider_name", "total_score", "reasons_text"]


@dataclass
class NoticeResult:
    """A published notice: its folder, dates, counts and the warnings to show."""

    folder: Path
    province: str
    as_of: str
    ends_on: str
    counts: dict[str, int]
    warnings: list[str] = field(default_factory=list)


def publish_notice(province: str, as_of: Any, *, data_dir: str | Path | None = None,
                   out_dir: str | Path | None = None, lang: str = "zh", register: str | Path | None = None,
                   force: bool = False, overlay: str | Path | None = None) -> NoticeResult:
    """Evaluate ``province`` on ``as_of`` and publish its draft list's notice (see the module).

    Raises
    ------
    PublishError
        The notice folder exists without ``force``; the province's list of that date is already
        recorded; the output folder cannot be written.
    DataError, RegisterError
        The data the province needs has errors; the register cannot be used.
    """
    from evalkit.data.dataset import load_dataset, parse_as_of
    from evalkit.evaluate import pipeline
    from evalkit.rubric import default_criterion_ids

    when = parse_as_of(as_of, name="--as-of", func="evalkit notice")
    day = f"{when:%Y-%m-%d}"
    data = Path(data_dir) if data_dir is not None else resources.sample_dir()
    out = Path(out_dir) if out_dir is not None else resources.reports_dir()
    target = out / day / province / "notice"
    ds = load_dataset(data, as_of=when, provinces=[province], criteria=default_criterion_ids)
    with os_errors(out):
        out.mkdir(parents=True, exist_ok=True)
        with OutputLock(out):
            recover_leftovers(out)
            if target.exists() and not force:
                raise PublishError(f"{target} already exists; pass --force to replace it.")
            with Register.open(register if register is not None else out) as reg:
                recorded = reg.latest(province, "9999-12-31")
                if recorded is not None and recorded.as_of >= day:
                    raise PublishError(f"province {province}'s list of {recorded.as_of} is already recorded; a "
                                       f"notice drafts the next list, so it is dated after {recorded.as_of}, "
                                       f"not {day}.")
                nat = pipeline.evaluate(ds, when, provinces=[province], previous_dir=out, register=reg,
                                        overlay=overlay)
                res = nat.province(province)
                return _stage_record_move(res, out, target, reg, lang)


def _stage_record_move(res: ProvinceResult, out: Path, target: Path, reg: Register, lang: str) -> NoticeResult:
    """Write the notice into a staging folder, record it, then move it into place."""
    staging = staging_folder(out, f"{res.as_of:%Y-%m-%d}")
    made: list[Path] = []
    try:
        payload = write_notice(res, staging / "notice", lang)
        sync_tree(staging)
        files = {p.name: exports.file_sha256(p) for p in sorted((staging / "notice").iterdir())}
        for parent in (target.parent.parent, target.parent):  # created only now, removed on failure
            if not parent.exists():
                parent.mkdir()
                made.append(parent)
        reg.record_notice(res.code, payload["as_of"], payload["notice_ends_on"], payload["notice_working_days"],
                          files, {"counts": payload["counts"], "draft_list": _draft_ids(res)})
        move_into_place(staging / "notice", target)
    except BaseException:
        for parent in reversed(made):
            shutil.rmtree(parent, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    warnings = [w for w in [load_calendar().warning(res.as_of, payload["notice_ends_on"])] if w]
    return NoticeResult(target, res.code, payload["as_of"], payload["notice_ends_on"], payload["counts"], warnings)


def _draft_ids(res: ProvinceResult) -> list[str]:
    dec = res.decisions
    return sorted(dec.loc[dec["status"].eq("recommended"), "app_id"].astype(str))


# ----------------------------------------------------------------------------------------
# the files


def notice_payload(res: ProvinceResult) -> dict[str, Any]:
    """The content of ``notice.json`` (see the module)."""
    days = int(profile_value(res.profile, "due_process", "notice_working_days", default=5))
    ends = load_calendar().add_working_days(res.as_of, days)
    channel = profile_value(res.profile, "due_process", "objection_channel")
    counts = res.decisions["status"].value_counts()
    return {
        "format": "evalkit-notice/1",
        "province_code": res.code,
        "province_name_zh": res.name_zh,
        "province_name_en": res.name_en,
        "as_of": f"{res.as_of:%Y-%m-%d}",
        "notice_working_days": days,
        "notice_ends_on": f"{ends:%Y-%m-%d}",
        "objections": {
            "until": f"{ends:%Y-%m-%d}",
            "how_zh": str(profile_value(channel, "zh", default=t("notice_how", "zh"))),
            "how_en": str(profile_value(channel, "en", default=t("notice_how", "en"))),
            "grounds": list(GROUNDS),
            "from_kinds": list(FROM_KINDS),
        },
        "counts": {s: int(counts.get(s, 0)) for s in ("recommended", "not_recommended", "excluded")},
        "rubric_version": res.rubric_version,
    }


def write_notice(res: ProvinceResult, folder: Path, lang: str = "zh") -> dict[str, Any]:
    """Write ``notice.csv``, ``notice.json`` and ``notice.html`` into ``folder``; returns the
    payload of ``notice.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = notice_payload(res)
    exports.write_csv(res.decisions, folder / "notice.csv", columns=DECISIONS_EXPORT, sort_by=["rank", "app_id"])
    exports.write_json(payload, folder / "notice.json")
    (folder / "notice.html").write_text(notice_html(res, payload, lang), encoding="utf-8")
    return payload


def notice_html(res: ProvinceResult, payload: dict[str, Any], lang: str) -> str:
    """The printable notice page (every value escaped)."""
    name = res.name_zh if lang == "zh" else res.name_en
    dec = res.decisions.sort_values(["rank", "app_id"], kind="stable").copy()
    dec["stages"] = words(dec["stages"], "stage", lang)
    dec["category"] = words(dec["category"], "category", lang)
    dec["reasons_text"] = dec["reasons_zh" if lang == "zh" else "reasons_en"]
    labels = {c: t(c, lang) for c in [*_LISTED, *_OTHERS]} | {"reasons_text": t("reasons", lang)}
    ob = payload["objections"]
    parts = [
        heading(t("notice_title", lang, name=name), 1),
        paragraph(t("notice_lead", lang, as_of=payload["as_of"], ends_on=payload["notice_ends_on"],
                    days=payload["notice_working_days"])),
        definition_list([
            (t("notice_period", lang), f"{payload['as_of']} – {payload['notice_ends_on']}"),
            (t("notice_how_label", lang), ob["how_zh" if lang == "zh" else "how_en"]),
            (t("notice_grounds", lang), separator("item", lang).join(word("objection_grounds", g, lang)
                                                                   for g in ob["grounds"])),
        ]),
    ]
    for status, cols, anchor in (("recommended", _LISTED, "draft"), ("not_recommended", _OTHERS, "not-listed"),
                                 ("excluded", _OTHERS, "excluded")):
        rows = dec.loc[dec["status"].eq(status), cols]
        parts.append(heading(f"{t('notice_' + status, lang)} ({len(rows)})", 2, anchor=anchor))
        parts.append(table(rows, f"notice-{anchor}", labels=labels, lang=lang))
    parts.append(paragraph(t("notice_privacy", lang), css="ek-muted"))
    body = "\n".join(parts)
    return page(body, title=html.unescape(t("notice_title", lang, name=name)), lang=lang, plotly_src=None)

