"""The national overview the index page shows: one row of key figures per province, the
public register of filed apps, and their cache.

* :func:`overview`: the summary and register of a national evaluation
  (:func:`evalkit.evaluate.pipeline.evaluate`), provinces blocked by their data included;
* :func:`write_publish_cache`: what a publish leaves for the index notebook in
  ``<set>/.cache/national`` (with every province's render status);
* :func:`national_overview`: the same frames computed from a dataset, for the index notebook
  run on its own (cached under a key of the data, the rubric, the date and the language);
* :func:`load_national`: what the index notebook reads, from either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evalkit.data.identifiers import PROVINCE_CODES, PROVINCES
from evalkit.errors import DataError, Problem, PublishError, choice_message
from evalkit.i18n import LANGS, separator, t
from evalkit.publish.cache import default_cache_dir
from evalkit.publish.config import resolve_as_of

if TYPE_CHECKING:
    from evalkit.publish.workers import ProvinceOutcome

__all__ = [
    "NATIONAL_EXPORT",
    "NATIONAL_FILE",
    "NoNationalCacheError",
    "blocked_text",
    "load_national",
    "national_overview",
    "overview",
    "national_decisions",
    "write_national_decisions",
    "write_publish_cache",
]

_COUNTS = ("n_candidates", "n_recommended", "n_not_recommended", "n_excluded", "n_providers",
           "n_negative", "n_blacklisted")


class NoNationalCacheError(PublishError, FileNotFoundError):
    """The index notebook found no publish cache and was given no dataset to compute from."""


def blocked_text(n: Any) -> Any:
    """The ``error`` of a province blocked by ``n`` errors in its data (int or Series)."""
    if isinstance(n, int):
        return f"not published: {n} error(s) in the data it needs"
    return "not published: " + n.astype(str) + " error(s) in the data it needs"


# ----------------------------------------------------------------------------------------
# the overview of a national evaluation


def _figures(code: str, dec: pd.DataFrame, credit: pd.DataFrame) -> dict[str, Any]:
    """The key figures of one province's decisions and credit table (a row of the summary)."""
    counts = dec["status"].value_counts() if len(dec) else pd.Series(dtype="int64")
    lists = credit["list"].value_counts() if len(credit) else pd.Series(dtype="int64")
    return {
        "code": code, "name_zh": PROVINCES[code].name_zh, "name_en": PROVINCES[code].name_en,
        "n_candidates": len(dec),
        "n_recommended": int(counts.get("recommended", 0)),
        "n_not_recommended": int(counts.get("not_recommended", 0)),
        "n_excluded": int(counts.get("excluded", 0)),
        "n_providers": len(credit),
        "n_negative": int(lists.get("grey", 0)),
        "n_blacklisted": int(lists.get("black", 0)),
        "published": True, "n_data_errors": 0,
    }


def overview(ds: Any, nat: Any, codes: list[str], lang: str,
             each: Callable[[str, Any], None] | None = None,
             blocked: dict[str, tuple[Problem, ...]] | None = None,
             kept: dict[str, tuple[pd.DataFrame, pd.DataFrame]] | None = None) -> dict[str, Any]:
    """Summary (one row per province: key figures) and public register of a national evaluation.

    Parameters
    ----------
    ds : Dataset
        The dataset evaluated.
    nat : NationalResult
        Its national evaluation (:func:`evalkit.evaluate.pipeline.evaluate`).
    codes : list of str
        The evaluated provinces to show.
    lang : {"zh", "en"}
        Language of the register's status text.
    each : callable, optional
        Called with ``(code, province result)`` for every province of ``codes`` (a publish
        caches and exports each one there).
    blocked : dict, optional
        Provinces not evaluated (errors in their data): a row with ``published`` false,
        ``n_data_errors`` and zero counts; the others have ``published`` true.
    kept : dict, optional
        Provinces of the same date not republished (a forced republish of some provinces keeps
        the others): ``{code: (decisions, credit)}`` of their recorded cycle, shown as published.

    Returns
    -------
    dict
        ``summary`` (sorted by code) and ``register`` (one row per filed app).
    """
    rows, statuses = [], []
    for i, code in enumerate(codes):  # a loop over provinces (at most 32)
        res = nat.province(code, then=codes[i + 1] if i + 1 < len(codes) else None)  # the next one's draws start
        if each is not None:
            each(code, res)
        rows.append(_figures(code, res.decisions, res.credit))
        statuses.append(res.decisions[["app_id", "status"]].assign(province_code=code))
    for code, (dec, credit) in sorted((kept or {}).items()):  # kept from the set being replaced
        rows.append(_figures(code, dec, credit) | {"kept": True})
        statuses.append(dec[["app_id", "status"]].assign(province_code=code))
    for code, problems in (blocked or {}).items():  # not evaluated: no figures
        p = PROVINCES[code]
        rows.append({"code": code, "name_zh": p.name_zh, "name_en": p.name_en,
                     **{c: 0 for c in _COUNTS}, "published": False, "n_data_errors": len(problems)})
    summary = pd.DataFrame(rows)
    if len(summary):
        summary = summary.sort_values("code", ignore_index=True)
    register = _register(ds, pd.concat(statuses, ignore_index=True) if statuses else None, lang)
    # the province whose app page a register row links to: the first one evaluated in this publish
    fresh = pd.concat(statuses[: len(codes)], ignore_index=True) if codes else None
    first = (fresh.sort_values(["app_id", "province_code"]).drop_duplicates("app_id").set_index("app_id")
             ["province_code"] if fresh is not None and len(fresh) else pd.Series(dtype="str"))
    register["first_province"] = register["app_id"].map(first).fillna("").astype("str")
    return {"summary": summary, "register": register}


def _register(ds: Any, statuses: pd.DataFrame | None, lang: str) -> pd.DataFrame:
    """One row per filed app: filing number, name, provider, status in each province."""
    apps = ds.apps[["app_id", "name", "provider_id"]].rename(columns={"name": "app_name"})
    prov = ds.providers[["provider_id", "name"]].rename(columns={"name": "provider"})
    reg = apps.merge(prov, on="provider_id", how="left")
    if statuses is not None and len(statuses):
        names = {c: (PROVINCES[c].name_zh if lang == "zh" else PROVINCES[c].name_en) for c in PROVINCE_CODES}
        words = {s: t(s, lang) for s in statuses["status"].astype(str).unique()}
        sep = separator("colon", lang)
        text = (statuses["province_code"].map(names) + sep
                + statuses["status"].astype(str).map(words))
        per_app = (statuses.assign(text=text).sort_values(["app_id", "province_code"])
                   .groupby("app_id", sort=True)["text"].agg(separator("clause", lang).join))
        reg = reg.merge(per_app.rename("status").reset_index(), on="app_id", how="left")
    else:
        reg["status"] = ""
    reg["status"] = reg["status"].fillna(t("not_submitted", lang))
    return reg[["app_id", "app_name", "provider", "provider_id", "status"]].sort_values(
        "app_id", ignore_index=True)


# ----------------------------------------------------------------------------------------
# the national export beside the index

#: The national export's file name, beside ``index.html``.
NATIONAL_FILE = "national_decisions.csv"
#: Its columns: every published province's decisions in one file (no personal data).
NATIONAL_EXPORT = ["province_code", "province_name_zh", "province_name_en", "app_id", "app_name",
                   "provider_id", "status", "rank", "total_score", "reasons", "reasons_zh", "reasons_en"]  # fmt: skip


def national_decisions(folder: Path) -> pd.DataFrame:
    """The ``decisions.csv`` of every province folder of the set ``folder`` in one frame
    (:data:`NATIONAL_EXPORT`), read back as published: what the set holds, also for provinces
    kept from an earlier publish or a province whose report failed after its exports."""
    from evalkit.evaluate.reasons import reasons_text

    frames = []
    for sub in sorted(folder.iterdir()):  # the set's province folders (at most 32)
        path = sub / "decisions.csv"
        if sub.name not in PROVINCES or not path.is_file():
            continue
        dec = pd.read_csv(path, encoding="utf-8-sig", dtype="str", keep_default_na=False)
        for lang in ("zh", "en"):  # a set published before the words: from the codes
            if f"reasons_{lang}" not in dec:
                dec[f"reasons_{lang}"] = reasons_text(dec["reasons"], lang)
        p = PROVINCES[sub.name]
        frames.append(dec.assign(province_code=sub.name, province_name_zh=p.name_zh,
                                 province_name_en=p.name_en)[NATIONAL_EXPORT])
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=NATIONAL_EXPORT, dtype="str")
    out["rank"] = pd.to_numeric(out["rank"].replace("", None)).astype("Int64")
    return out


def write_national_decisions(folder: Path, lang: str) -> list[Path]:
    """Write ``national_decisions.csv`` (:func:`national_decisions`) into the set ``folder``
    beside ``index.html``, and in the Chinese set its companion ``national_decisions_zh.csv``
    (:mod:`evalkit.evaluate.companions`); sorted by province, rank and filing number."""
    from evalkit.data import exports
    from evalkit.evaluate.companions import companion_name, write_companion

    decisions = national_decisions(folder)
    key = ["province_code", "rank", "app_id"]
    written = [exports.write_csv(decisions, folder / NATIONAL_FILE, sort_by=key)]
    if lang == "zh":
        written.append(write_companion(decisions, NATIONAL_EXPORT, folder / companion_name(NATIONAL_FILE), key))
    return written


# ----------------------------------------------------------------------------------------
# the cache of the index page


def _write_national(folder: Path, summary: pd.DataFrame, register: pd.DataFrame,
                    meta: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    summary.sort_values("code", ignore_index=True).to_parquet(folder / "summary.parquet", index=False)
    register.to_parquet(folder / "register.parquet", index=False)
    (folder / "meta.json").write_text(json.dumps(meta, sort_keys=True, ensure_ascii=False), encoding="utf-8")


def _read_national(folder: Path) -> dict[str, Any]:
    return {
        "summary": pd.read_parquet(folder / "summary.parquet"),
        "register": pd.read_parquet(folder / "register.parquet"),
        "meta": json.loads((folder / "meta.json").read_text(encoding="utf-8")),
    }


def write_publish_cache(staging: Path, national: dict[str, Any], outcomes: Iterable[ProvinceOutcome],
                        meta: dict[str, Any]) -> None:
    """Leave the overview of a publish for its index notebook in ``<staging>/.cache/national``.

    ``national``: :func:`overview`'s frames; ``outcomes``: every province's render status (its
    ``ok`` and ``error`` join the summary).
    """
    status = pd.DataFrame(
        [{"code": o.code, "ok": o.ok, "error": o.error} for o in outcomes],
        columns=["code", "ok", "error"],
    )
    summary = national["summary"].merge(status, on="code", how="left")
    kept = summary["kept"].fillna(False).astype(bool) if "kept" in summary.columns else False
    summary["ok"] = summary["ok"].fillna(kept).astype(bool)  # a kept province was published before
    summary["error"] = summary["error"].fillna("").astype(str)
    _write_national(staging / ".cache" / "national", summary, national["register"], meta)


def _cache_key(data_dir: Path, date: str, lang: str) -> str:
    """A digest of everything the overview depends on: evalkit's version, the date, the
    language and every file of the dataset, the rubrics and the profiles."""
    import hashlib

    from evalkit import __version__
    from evalkit.rubric import default_rubric_dir

    h = hashlib.sha256(f"{__version__}|{date}|{lang}|".encode())
    for root in (data_dir, default_rubric_dir()):  # data files, rubrics and profiles
        for f in sorted(p for p in root.rglob("*") if p.is_file()):
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            h.update(f"{f.relative_to(root).as_posix()}={digest}|".encode())
    return h.hexdigest()


def national_overview(data_dir: str | Path, as_of: str, lang: str = "zh", *,
                      cache_dir: str | Path | None = None) -> dict[str, Any]:
    """The national summary and register computed from a dataset (outside a publish).

    What ``national.ipynb`` shows when it runs on its own (JupyterLab, papermill, nbval): the
    same frames a publish caches for the index page, every province rendered ``ok``.

    Parameters
    ----------
    data_dir : path-like
        Dataset folder (contract v1).
    as_of : str
        Evaluation date ``YYYY-MM-DD``.
    lang : {"zh", "en"}
        Language of the register's status text.
    cache_dir : path-like, optional
        Keep the result under ``<cache_dir>/<as_of>/national-<lang>/``, valid while the data
        files, the date, the language and the evalkit version are unchanged.

    Returns
    -------
    dict
        ``summary``, ``register`` and ``meta`` as :func:`load_national` gives them.

    Raises
    ------
    PublishError
        A bad ``lang`` or ``as_of``.
    DataError
        An error in the data that blocks every province.
    """
    date = resolve_as_of(as_of, Path(data_dir))
    if lang not in LANGS:
        raise PublishError(choice_message("lang", "national_overview", lang, LANGS))
    folder = key = None
    if cache_dir is not None:
        key = _cache_key(Path(data_dir), date, lang)
        folder = Path(cache_dir) / date / f"national-{lang}"
        if (folder / "key.txt").is_file() and (folder / "key.txt").read_text(encoding="utf-8").strip() == key:
            try:
                return _read_national(folder)
            except (OSError, ValueError):
                pass  # a broken cache is recomputed
    summary, register, meta = _compute_overview(data_dir, date, lang)
    if folder is not None and key is not None:
        _write_national(folder, summary, register, meta)
        (folder / "key.txt").write_text(key + "\n", encoding="utf-8")
    return {"summary": summary, "register": register.reset_index(drop=True), "meta": meta}


def _compute_overview(data_dir: str | Path, date: str, lang: str
                      ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(summary, register, meta) of the whole dataset, every evaluated province ``ok``."""
    from evalkit.data.dataset import load_by_province
    from evalkit.evaluate import pipeline
    from evalkit.rubric import default_criterion_ids

    check = load_by_province(data_dir, as_of=date, criteria=default_criterion_ids)
    if check.dataset is None:
        raise DataError(check.problems)
    ds = check.dataset
    nat = pipeline.evaluate(ds, date)
    codes = [c for c in PROVINCE_CODES if c in set(nat.provinces)]
    national = overview(ds, nat, codes, lang, blocked=check.blocked)
    summary = national["summary"]
    summary = summary.assign(ok=summary["published"].astype(bool),
                             error=blocked_text(summary["n_data_errors"]).where(~summary["published"], ""))
    meta = {"as_of": date, "lang": lang, "provinces": codes}
    return summary, national["register"], meta


def load_national(out_dir: str | Path, *, data_dir: str | Path | None = None,
                  as_of: str | None = None, lang: str = "zh") -> dict[str, Any]:
    """The national summary a publish caches for the index page.

    Parameters
    ----------
    out_dir : path-like
        The published set being written (``.`` inside a publish); empty when the notebook
        runs on its own.
    data_dir, as_of, lang : optional
        Used when there is no publish cache: the overview is computed from the dataset
        (:func:`national_overview`, cached in :func:`evalkit.publish.cache.default_cache_dir`).

    Returns
    -------
    dict
        ``summary`` (one row per province, key figures and render status), ``register`` (one
        row per filed app) and ``meta`` (as_of, lang, ...).

    Raises
    ------
    NoNationalCacheError
        No publish cache in ``out_dir`` and no ``data_dir``/``as_of`` to compute from.
    """
    folder = Path(out_dir) / ".cache" / "national" if out_dir else None
    if folder is None or not (folder / "meta.json").is_file():
        if data_dir is None or as_of is None:
            raise NoNationalCacheError(
                f"no publish cache in {out_dir!r}: pass data_dir and as_of to compute the overview")
        return national_overview(data_dir, as_of, lang, cache_dir=default_cache_dir())
    return _read_national(folder)
