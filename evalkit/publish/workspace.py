"""A province workspace: the folder a provincial office works in (``evalkit init``).

::

    ws/
      evalkit.toml        province, data folder, output folder, language, the cycle's date
      data/               the dataset: a header-only CSV per table and a README (or the sample)
      rubrics/profiles/   <code>.yaml and national.yaml, copied from the shipped ones for editing
      reports/            what run and publish write (dated sets, register.sqlite)

Inside a workspace (an ``evalkit.toml`` in the working folder or one of its parents)
``evalkit validate``, ``run`` and ``publish`` take their province, data, output folder,
language and date from the file (:func:`resolve`); a flag given on the command line wins.  The
workspace's ``rubrics/`` is the profile overlay of the evaluation
(:func:`evalkit.rubric.profiles.load_profile`): its ``profiles/<code>.yaml`` and
``national.yaml`` replace the shipped files, the rest of the shipped rubric stays, and each
province's ``provenance.json`` names the profile files used.

Public: :data:`CONFIG_NAME`, :class:`Workspace`, :class:`Settings`, :func:`find`, :func:`load`,
:func:`resolve`, :func:`create`.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit import resources
from evalkit.data.identifiers import PROVINCE_CODES, PROVINCES
from evalkit.dates import parse_date
from evalkit.errors import Problem, WorkspaceError, suggest, unknown_name
from evalkit.i18n import LANGS

__all__ = ["CONFIG_NAME", "SAMPLE_AS_OF", "Settings", "Workspace", "create", "find", "load", "resolve"]

#: The workspace file; its folder is the workspace.
CONFIG_NAME = "evalkit.toml"
#: The evaluation date of the shipped sample (``evalkit init --sample`` writes it).
SAMPLE_AS_OF = "2026-09-01"
_KEYS = ("province", "data", "out", "lang", "as_of")


@dataclass(frozen=True)
class Workspace:
    """A workspace read from its ``evalkit.toml``: folders absolute, values checked."""

    root: Path
    config: Path
    province: str
    data: Path
    out: Path
    lang: str
    as_of: str | None = None

    @property
    def rubrics(self) -> Path:
        """The workspace's rubrics folder (``profiles/`` for editing): the profile overlay."""
        return self.root / "rubrics"


@dataclass(frozen=True)
class Settings:
    """What a command runs with: each value its flag, else the workspace's, else None."""

    workspace: Workspace | None
    province: str | None
    data: Path | None
    out: Path | None
    lang: str | None
    as_of: str | None
    overlay: Path | None


# ------------------------------------------------------------------------------------------
# reading


def find(start: str | Path | None = None) -> Workspace | None:
    """The workspace holding ``start`` (default: the working folder): the nearest
    ``evalkit.toml`` in it or one of its parents, read with :func:`load`; None outside one.

    Raises
    ------
    WorkspaceError
        The nearest ``evalkit.toml`` is invalid (naming the file and the key).
    """
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return load(folder / CONFIG_NAME)
    return None


def load(path: str | Path) -> Workspace:
    """Read and check a workspace file; relative folders are relative to the file's folder.

    Keys: ``province`` (required, a code such as ``"44"``), ``data`` (default ``"data"``),
    ``out`` (default ``"reports"``), ``lang`` (``"zh"`` or ``"en"``, default ``"zh"``),
    ``as_of`` (optional, ``YYYY-MM-DD``: the cycle's evaluation date).

    Raises
    ------
    WorkspaceError
        Every problem at once, each as ``<file>:<key>: <message>``.
    """
    path = Path(path)
    name = _shown(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError([Problem(name, None, None, f"cannot read the workspace file: {exc}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError([Problem(name, None, None, f"not valid TOML: {exc}")]) from exc
    problems = [Problem(name, None, k, unknown_name("key", k, _KEYS)) for k in raw if k not in _KEYS]
    province = _province(raw, name, problems)
    folders = {key: _folder(raw, key, default, path.parent, name, problems)
               for key, default in (("data", "data"), ("out", "reports"))}
    lang = raw.get("lang", "zh")
    if lang not in LANGS:
        problems.append(Problem(name, None, "lang", f"must be one of {', '.join(LANGS)}; got {lang!r} instead."
                                + suggest(lang, LANGS)))
    as_of = _as_of(raw, name, problems)
    if problems:
        raise WorkspaceError(problems)
    return Workspace(root=path.parent.resolve(), config=path.resolve(), province=province,
                     data=folders["data"], out=folders["out"], lang=str(lang), as_of=as_of)


def _shown(path: Path) -> str:
    """A path as problems show it: relative to the working folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _province(raw: dict[str, Any], name: str, problems: list[Problem]) -> str:
    if "province" not in raw:
        problems.append(Problem(name, None, "province", "missing: the workspace's province code, e.g. "
                                'province = "44"'))
        return ""
    value = raw["province"]
    code = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else repr(value)
    if code not in PROVINCES:
        problems.append(Problem(name, None, "province", f"must be a province code ({', '.join(PROVINCE_CODES)}); "
                                f"got {value!r} instead.{suggest(code, PROVINCE_CODES)}"))
    return code


def _folder(raw: dict[str, Any], key: str, default: str, base: Path, name: str, problems: list[Problem]) -> Path:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(name, None, key, f"must be a folder path (text, relative to {CONFIG_NAME}'s "
                                f"folder); got {value!r} instead."))
        return base
    return (base / Path(value).expanduser()).resolve()


def _as_of(raw: dict[str, Any], name: str, problems: list[Problem]) -> str | None:
    value = raw.get("as_of")
    if value is None:
        return None
    if not isinstance(value, _dt.datetime) and isinstance(value, (str, _dt.date)):
        try:
            return parse_date(value, "as_of", CONFIG_NAME).strftime("%Y-%m-%d")
        except ValueError:
            pass
    shown = value.isoformat() if isinstance(value, _dt.date) else repr(value)
    problems.append(Problem(name, None, "as_of", f"must be a date YYYY-MM-DD; got {shown} instead."))
    return None


def resolve(*, province: str | None = None, data: Path | None = None, out: Path | None = None,
            lang: str | None = None, as_of: str | None = None, rubric: Path | None = None,
            start: str | Path | None = None) -> Settings:
    """The settings of a command: each flag given, else the workspace's value (when the
    working folder is in a workspace), else None (the command's own default).

    The workspace's ``rubrics/`` is the profile overlay unless ``rubric`` (a whole rubrics
    folder given on the command line) replaces the shipped rubrics.

    Raises
    ------
    WorkspaceError
        The workspace file is invalid.
    """
    ws = find(start)
    if ws is None:
        return Settings(None, province, data, out, lang, as_of, None)
    overlay = ws.rubrics if rubric is None and ws.rubrics.is_dir() else None
    return Settings(ws, province or ws.province, data if data is not None else ws.data,
                    out if out is not None else ws.out, lang or ws.lang, as_of or ws.as_of, overlay)


# ------------------------------------------------------------------------------------------
# creating


def create(folder: str | Path, *, province: str | None = None, sample: bool = False, lang: str = "zh") -> Workspace:
    """Create a workspace in ``folder`` (new or empty): ``data/`` (the CSV templates with their
    README in ``lang``, or the shipped sample with ``sample``), ``rubrics/profiles/`` (the
    province's profile and the national default, copied for editing) and ``evalkit.toml``.

    ``province`` is required without ``sample``; the sample's workspace defaults to 11
    (Beijing).  Everything is written into a hidden folder beside ``folder`` and moved into
    place at the end: a failed init leaves nothing behind.

    Raises
    ------
    WorkspaceError
        ``folder`` is not empty (nothing is changed), an unknown province or language.
    """
    target = Path(folder)
    code = _init_arguments(target, province, sample, lang)
    staging = target.parent / f".{target.name}.evalkit-init"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        _write_data(staging / "data", sample, lang)
        _write_profiles(staging / "rubrics" / "profiles", code)
        (staging / CONFIG_NAME).write_text(_config_text(code, lang, SAMPLE_AS_OF if sample else None),
                                           encoding="utf-8")
        if target.is_dir():
            target.rmdir()  # empty (checked): replaced by the complete workspace
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return load(target / CONFIG_NAME)


def _init_arguments(target: Path, province: str | None, sample: bool, lang: str) -> str:
    """The province code of a new workspace; refuses a non-empty folder, unknown values."""
    shown = target.as_posix()
    problems = []
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is a file" if not target.is_dir() else "is not empty"
        problems.append(Problem(shown, None, None, f"{what}: evalkit init creates a workspace in a new or "
                                "empty folder (nothing was changed); choose another folder."))
    code = province if province is not None else ("11" if sample else None)
    if code is None:
        problems.append(Problem(shown, None, "--province", "which province is this workspace for? Pass "
                                f"--province CODE ({', '.join(PROVINCE_CODES)})."))
    elif code not in PROVINCES:
        problems.append(Problem(shown, None, "--province", unknown_name("province code", code, PROVINCE_CODES)))
    if lang not in LANGS:
        problems.append(Problem(shown, None, "--lang", unknown_name("language", lang, LANGS)))
    if problems:
        raise WorkspaceError(problems)
    return str(code)


def _write_data(data: Path, sample: bool, lang: str) -> None:
    """``data/``: the shipped sample's tables, or a header-only CSV per table with the README."""
    if sample:
        data.mkdir(parents=True)
        for f in sorted(resources.sample_dir().glob("*.csv")):
            shutil.copyfile(f, data / f.name)
        return
    from evalkit.data.template import write_templates

    write_templates(data, fmt="csv", lang=lang)


def _write_profiles(profiles: Path, code: str) -> None:
    """The national default and the province's profile, copied from the shipped ones; a
    province without a shipped profile gets a file naming it, to which keys are added."""
    profiles.mkdir(parents=True)
    shipped = resources.profiles_dir()
    shutil.copyfile(shipped / "national.yaml", profiles / "national.yaml")
    own = shipped / f"{code}.yaml"
    if own.is_file():
        shutil.copyfile(own, profiles / own.name)
        return
    prov = PROVINCES[code]
    (profiles / own.name).write_text(
        f"# {prov.name_zh} ({prov.name_en}): this province's rules, merged over national.yaml key by key\n"
        "# (mappings merged, lists and values replaced). Add only what differs from the national\n"
        "# default, e.g.  list: {max_total: 40}   extra_vetoes: [L22_biometric_review]\n"
        "# Fields: docs/rubric.md (profiles); check with `evalkit rubric check`.\n"
        f'code: "{code}"\n'
        f"name: {{zh: {prov.name_zh}, en: {prov.name_en}}}\n",
        encoding="utf-8",
    )


_HEAD = {
    "zh": ("# evalkit 工作区（evalkit init 创建）。在本文件夹或其子文件夹中运行 evalkit validate、\n"
           "# evalkit run、evalkit publish 时读取本文件；命令行参数优先于本文件。\n"),
    "en": ("# evalkit workspace (created by evalkit init). evalkit validate, evalkit run and evalkit publish\n"
           "# read this file when run in this folder or below it; a command-line flag wins over it.\n"),
}
_NOTES = {
    "zh": {"province": "省级行政区代码（{name}）", "data": "数据文件夹（相对本文件所在文件夹）",
           "out": "输出文件夹：各评估日期的报告与登记簿 register.sqlite",
           "lang": "报告语言：zh（中文）或 en（英文）", "as_of": "评估日期 YYYY-MM-DD（每轮评估更新）",
           "no_as_of": "评估日期：填写后 run/publish 无需 --as-of",
           "profiles": "# 省级规则：rubrics/profiles/{code}.yaml 覆盖全国默认\n"
                       "# rubrics/profiles/national.yaml（均可编辑）。\n"},
    "en": {"province": "province code ({name})", "data": "dataset folder (relative to this file's folder)",
           "out": "output folder: the reports of each evaluation date, register.sqlite",
           "lang": "report language: zh (Chinese) or en (English)",
           "as_of": "evaluation date YYYY-MM-DD (update it every cycle)",
           "no_as_of": "evaluation date: once set, run and publish need no --as-of",
           "profiles": "# Provincial rules: rubrics/profiles/{code}.yaml over the national default\n"
                       "# rubrics/profiles/national.yaml (edit them).\n"},
}


def _config_text(code: str, lang: str, as_of: str | None) -> str:
    """The ``evalkit.toml`` of a new workspace, commented in ``lang``."""
    notes = _NOTES[lang]
    prov = PROVINCES[code]
    lines = [(f'province = "{code}"', notes["province"].format(name=prov.name_zh if lang == "zh" else prov.name_en)),
             ('data = "data"', notes["data"]), ('out = "reports"', notes["out"]), (f'lang = "{lang}"', notes["lang"]),
             (f'as_of = "{as_of}"', notes["as_of"]) if as_of else ('# as_of = "YYYY-MM-DD"', notes["no_as_of"])]
    body = "".join(f"{setting:<24}# {note}\n" for setting, note in lines)
    return _HEAD[lang] + body + notes["profiles"].format(code=code)
