"""`evalkit validate DATA [--as-of DATE] [--format text|json]` run as a user runs it.

Through a subprocess (`python -m evalkit`), so that exit codes, streams and the absence of
tracebacks are real.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import _mini
from test_dataset import break_a_dozen


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evalkit", "validate", *map(str, args)],
                          check=False, capture_output=True, text=True, encoding="utf-8")


@pytest.fixture(scope="module")
def dozen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    folder = tmp_path_factory.mktemp("dozen") / "ds"
    return folder, break_a_dozen(folder)


def test_valid_dataset_exits_0_with_warnings_printed(tmp_path: Path) -> None:
    tables = _mini.mini_tables()
    del tables["complaints"]
    folder = _mini.write_tables(tmp_path, tables)
    res = run(folder, "--as-of", "2024-06-30")
    assert res.returncode == 0, res.stderr
    assert "complaints.csv: warning: optional file is absent: complaints is empty" in res.stdout
    assert res.stderr.strip().endswith("warning(s))")
    assert "valid" in res.stderr


def test_dozen_exits_1_lists_every_problem_and_no_traceback(dozen: tuple[Path, list[str]]) -> None:
    folder, expected = dozen
    res = run(folder, "--as-of", "2024-06-30")
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    for prefix in expected:
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)
    assert "Traceback" not in res.stdout + res.stderr
    assert "invalid: 13 error(s)" in res.stderr


def test_json_format_is_a_list_of_problem_dicts(dozen: tuple[Path, list[str]]) -> None:
    folder, _ = dozen
    res = run(folder, "--as-of", "2024-06-30", "--format", "json")
    assert res.returncode == 1
    data = json.loads(res.stdout)
    assert isinstance(data, list)
    assert {"file", "row", "column", "severity", "code", "message"} <= set(data[0])
    mlps = [d for d in data if d["file"] == "providers.csv" and d["column"] == "mlps_level"]
    assert mlps == [{"file": "providers.csv", "row": 2, "column": "mlps_level", "severity": "error",
                     "code": "out_of_range", "message": "mlps_level 6 is out of range (1–5)"}]
    binary = [d for d in data if d["file"] == "experts.csv"]
    assert binary[0]["row"] is None and binary[0]["code"] == "not_csv"


@pytest.mark.parametrize("as_of", ["2024-02-30", "yesterday", "2024/06/30"])
def test_bad_as_of_is_a_clean_error(tmp_path: Path, as_of: str) -> None:
    res = run(_mini.write_tables(tmp_path), "--as-of", as_of)
    assert res.returncode == 2
    assert "'--as-of' parameter of evalkit validate must be a date (YYYY-MM-DD)" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_format_is_a_clean_error(tmp_path: Path) -> None:
    res = run(_mini.write_tables(tmp_path), "--format", "xml")
    assert res.returncode == 2 and "--format must be 'text' or 'json'" in res.stderr


def test_missing_folder_exits_1(tmp_path: Path) -> None:
    res = run(tmp_path / "nope")
    assert res.returncode == 1
    assert "the dataset folder does not exist" in res.stdout
    assert "Traceback" not in res.stderr


def test_future_event_date_fails_only_with_as_of(tmp_path: Path) -> None:
    tables = _mini.mini_tables()
    tables["apps"].loc[0, "last_release_on"] = "2024-08-01"
    folder = _mini.write_tables(tmp_path, tables)
    assert run(folder).returncode == 0
    res = run(folder, "--as-of", "2024-06-30")
    assert res.returncode == 1
    assert "apps.csv:1:last_release_on: last_release_on 2024-08-01 is after as_of 2024-06-30" in res.stdout
