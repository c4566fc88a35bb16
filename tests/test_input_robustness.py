"""Input reading and "no traceback reaches a user" (issue 16, items 4, 6 and 7), as a user
meets them: each case runs the real command line (``python -m evalkit validate|run|publish``)
in a subprocess on a copy of the committed sample, and checks the exit code, a message naming
the file (and row and column where there is one) and that no traceback is printed.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-09-01"
MIB = 1 << 20


def evalkit(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m evalkit ARGS`` as a user runs it (a FIFO that blocks fails the timeout)."""
    env = {k: v for k, v in os.environ.items() if k != "EVALKIT_DEBUG"}
    res = subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], check=False,
                         capture_output=True, text=True, encoding="utf-8", errors="replace",
                         timeout=timeout, env=env)
    assert "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    return res


def sample_copy(folder: Path) -> Path:
    shutil.copytree(SAMPLE, folder)
    return folder


def apps_rows(folder: Path) -> list[list[str]]:
    with open(folder / "apps.csv", encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


# ----------------------------------------------------------------------------------------
# 1. an oversized cell is reported by file, row and column


_MARK = "HUGE_CELL_GOES_HERE"


@pytest.fixture(scope="module")
def huge_cell(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample with a 200 MB description in apps.csv row 5 (written once per module)."""
    folder = sample_copy(tmp_path_factory.mktemp("huge") / "data")
    rows = apps_rows(folder)
    col = rows[0].index("description")
    with open(folder / "apps.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerows(rows[:5])
        row = rows[5]
        writer.writerow(row[:col] + [_MARK] + row[col + 1:])  # replaced below
        writer.writerows(rows[6:])
    text = (folder / "apps.csv").read_bytes()
    at = text.index(b"," + _MARK.encode())
    chunk = b"x" * MIB
    with open(folder / "apps.csv", "wb") as fh:
        fh.write(text[:at + 1] + b'"')
        for _ in range(200):
            fh.write(chunk)
        fh.write(b'"' + text[at + 1 + len(_MARK):])
    return folder


def test_a_200_mb_cell_is_reported_with_its_row_and_column(huge_cell: Path) -> None:
    res = evalkit("validate", huge_cell)
    assert res.returncode == 1
    assert ("apps.csv:5:description: a value of about 200.0 MiB is longer than the limit of "
            "64.0 MiB for a cell") in res.stdout
    assert "straddl" not in res.stdout + res.stderr


def test_publish_with_a_200_mb_cell_fails_cleanly(huge_cell: Path, tmp_path: Path) -> None:
    """An error with a row in a file that could not be read blocks every province (it used to
    crash the attribution of errors to provinces)."""
    res = evalkit("publish", "--data", huge_cell, "--as-of", AS_OF, "--provinces", "11",
                  "--out", tmp_path / "out", "--quiet")
    assert res.returncode == 1
    assert "apps.csv:5:description: a value of about 200.0 MiB" in res.stderr
    assert not (tmp_path / "out" / AS_OF).exists()


def test_a_cell_over_the_limit_that_can_be_parsed_is_reported_by_row(tmp_path: Path) -> None:
    """A 75 MB value (25 M Chinese characters) is parsed, then reported (validate and run)."""
    folder = sample_copy(tmp_path / "data")
    rows = apps_rows(folder)
    rows[7][rows[0].index("description")] = "描" * (25 * MIB)
    write_rows(folder / "apps.csv", rows)
    res = evalkit("validate", folder)
    assert res.returncode == 1
    assert "apps.csv:7:description: a value of 75.0 MiB is longer than the limit" in res.stdout
    res = evalkit("run", "--province", "11", "--as-of", AS_OF, "--data", folder,
                  "--out", tmp_path / "out")
    assert res.returncode == 1
    assert "apps.csv:7:description: a value of 75.0 MiB" in res.stderr


# ----------------------------------------------------------------------------------------
# 2. a wide header is counted exactly


def _wide(folder: Path, n: int, *, values: bool) -> None:
    rows = apps_rows(folder)
    rows[0] += [f"extra_column_{i:05d}" for i in range(n)]  # ~190 KB: beyond any sniff window
    if values:
        rows[1:] = [row + [""] * n for row in rows[1:]]
    write_rows(folder / "apps.csv", rows)


def test_a_10000_column_header_is_counted_exactly(tmp_path: Path) -> None:
    folder = sample_copy(tmp_path / "data")
    with (folder / "apps.csv").open(encoding="utf-8-sig", newline="") as f:
        n = len(next(csv.reader(f)))  # the contract's columns of apps
    _wide(folder, 10_000, values=False)
    res = evalkit("validate", folder)
    assert res.returncode == 1
    ragged = [line for line in res.stdout.splitlines() if "fields:" in line]
    assert ragged and all(line.endswith(f"{n} instead of {n + 10_000} (row skipped)") for line in ragged)
    assert ragged[0].startswith("apps.csv:1: too few fields")


def test_a_10000_column_file_is_read_whole(tmp_path: Path) -> None:
    folder = sample_copy(tmp_path / "data")
    _wide(folder, 10_000, values=True)
    res = evalkit("validate", folder)
    assert res.returncode == 0, res.stdout
    assert "fields" not in res.stdout


# ----------------------------------------------------------------------------------------
# 3. violations.csv: not a regular file, or absent


@pytest.mark.parametrize("kind", ["fifo", "folder", "dangling link"])
def test_a_table_that_is_not_a_regular_file_is_an_error(tmp_path: Path, kind: str) -> None:
    folder = sample_copy(tmp_path / "data")
    target = folder / "violations.csv"
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    else:
        target.symlink_to(tmp_path / "nowhere.csv")
    res = evalkit("validate", folder, timeout=60)
    assert res.returncode == 1
    assert "violations.csv: is not a regular file but " in res.stdout
    if kind == "fifo":  # run and publish read with the same loader
        res = evalkit("run", "--province", "11", "--as-of", AS_OF, "--data", folder,
                      "--out", tmp_path / "out", timeout=60)
        assert res.returncode == 1 and "violations.csv: is not a regular file" in res.stderr


def test_a_partition_that_is_a_fifo_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "part"
    assert evalkit("generate", folder, "--format", "parquet", "--partitioned").returncode == 0
    part = folder / "apps" / "province=11" / "part-0.parquet"
    part.unlink()
    os.mkfifo(part)
    res = evalkit("validate", folder, timeout=60)
    assert res.returncode == 1
    assert "apps: apps/province=11/part-0.parquet is not a regular file" in res.stdout


_SANCTIONS = "violations.csv: warning: optional file is absent: violations is empty (it is the source of sanctions"


def test_an_absent_violations_file_warns_in_validate_run_and_publish(tmp_path: Path) -> None:
    folder = sample_copy(tmp_path / "data")
    (folder / "violations.csv").unlink()
    res = evalkit("validate", folder, "--as-of", AS_OF)
    assert res.returncode == 0 and _SANCTIONS in res.stdout and "valid (3 warning(s))" in res.stderr
    # the sample's two other warnings are counted, not listed, by run and publish
    others = f"the data has 2 other warning(s), not errors: `evalkit validate {folder} --as-of {AS_OF}` lists them"
    res = evalkit("run", "--province", "11", "--as-of", AS_OF, "--data", folder,
                  "--out", tmp_path / "run")
    assert res.returncode == 0 and _SANCTIONS in res.stderr and others in res.stderr
    res = evalkit("publish", "--data", folder, "--as-of", AS_OF, "--provinces", "11",
                  "--out", tmp_path / "pub", "--quiet", "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert _SANCTIONS in res.stderr and others in res.stderr


# ----------------------------------------------------------------------------------------
# 4. what used to give a traceback: a clear message naming the path


def _gbk_with_a_bad_byte(path: Path) -> None:
    data = path.read_text(encoding="utf-8").encode("gb18030")
    path.write_bytes(data[:3000] + b"\x81\x20" + data[3000:])


@pytest.mark.parametrize("case, expected", [
    ("empty", "apps.csv: is empty"),
    ("binary", "apps.csv: is not a CSV text file"),
    ("gbk", "apps.csv: is not valid UTF-8"),
    ("folder", "apps.csv: is not a regular file but a folder"),
    ("blank first line", "apps.csv: the first line is empty"),
    ("only a BOM", "apps.csv: is empty"),
])
def test_unreadable_inputs_are_named_errors(tmp_path: Path, case: str, expected: str) -> None:
    folder = sample_copy(tmp_path / "data")
    apps = folder / "apps.csv"
    if case == "empty":
        apps.write_bytes(b"")
    elif case == "binary":
        apps.write_bytes(bytes(range(256)) * 20)
    elif case == "gbk":
        _gbk_with_a_bad_byte(apps)
    elif case == "folder":
        apps.unlink()
        apps.mkdir()
    elif case == "blank first line":
        apps.write_bytes(b"\n" + apps.read_bytes())
    else:
        apps.write_bytes(b"\xef\xbb\xbf")
    res = evalkit("validate", folder)
    assert res.returncode == 1 and expected in res.stdout
    if case in ("gbk", "folder"):  # run reads with the same loader: two cases suffice
        res = evalkit("run", "--province", "44", "--as-of", AS_OF, "--data", folder,
                      "--out", tmp_path / "out")
        assert res.returncode == 1 and expected in res.stderr
        assert not (tmp_path / "out").exists()


def test_an_output_folder_that_cannot_be_made_is_an_error_naming_it(tmp_path: Path) -> None:
    """An unexpected OSError (here: the output root is a file) prints ``Error: <path>: …``."""
    folder = sample_copy(tmp_path / "data")
    out = tmp_path / "a_file"
    out.write_text("not a folder")
    res = evalkit("run", "--province", "11", "--as-of", AS_OF, "--data", folder, "--out", out)
    assert res.returncode == 1
    assert res.stderr.startswith(f"Error: {out}") and "Not a directory" in res.stderr
    res = evalkit("publish", "--data", folder, "--as-of", AS_OF, "--provinces", "11",
                  "--out", out, "--quiet")
    assert res.returncode == 1
    assert res.stderr.startswith(f"Error: {out}")
    assert out.read_text() == "not a folder"


def test_a_reports_configuration_that_is_not_text_is_an_error_naming_it(tmp_path: Path) -> None:
    reports = tmp_path / "reports.yaml"
    reports.write_bytes(b"\xcb\xff\x00binary")
    res = evalkit("publish", "--as-of", AS_OF, "--provinces", "11", "--out", tmp_path / "out",
                  "--quiet", "--reports", reports)
    assert res.returncode == 1
    assert f"{reports}: cannot read the reports configuration" in res.stderr


# ----------------------------------------------------------------------------------------
# permissions: root reads everything, so these run as the unprivileged user 'nobody'


def _as_nobody(tmp: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp),
           "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    res = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          sys.executable, "-m", "evalkit", *map(str, args)], check=False,
                         capture_output=True, text=True, encoding="utf-8", errors="replace",
                         timeout=300, env=env, cwd=tmp)
    assert "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    return res


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A folder 'nobody' can enter, holding a copy of the sample; skips where the test cannot
    switch to that user (not root, no setpriv, or the interpreter not readable by it)."""
    import tempfile

    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the command as an unprivileged user")
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            sys.executable, "-c", "import evalkit"], check=False,
                           capture_output=True, env={"PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))},
                           cwd="/")
    if probe.returncode != 0:
        pytest.skip("the interpreter or the package is not readable by 'nobody'")
    tmp = Path(tempfile.mkdtemp(prefix="evalkit-perm-"))
    tmp.chmod(0o755)
    shutil.copytree(SAMPLE, tmp / "data")
    for p in [tmp / "data", *(tmp / "data").iterdir()]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def test_permission_denied_on_an_input_is_an_error_naming_it(nobody_dir: Path) -> None:
    (nobody_dir / "data" / "violations.csv").chmod(0o000)
    res = _as_nobody(nobody_dir, "validate", nobody_dir / "data")
    assert res.returncode == 1
    assert "violations.csv: cannot be read: Permission denied" in res.stdout


def test_a_read_only_output_folder_is_an_error_naming_it(nobody_dir: Path) -> None:
    out = nobody_dir / "read-only"
    out.mkdir(mode=0o555)
    out.chmod(0o555)
    res = _as_nobody(nobody_dir, "run", "--province", "11", "--as-of", AS_OF,
                     "--data", nobody_dir / "data", "--out", out)
    assert res.returncode == 1
    assert res.stderr.startswith(f"Error: {out}") and "Permission denied" in res.stderr
    res = _as_nobody(nobody_dir, "publish", "--provinces", "11", "--as-of", AS_OF, "--quiet",
                     "--data", nobody_dir / "data", "--out", out)
    assert res.returncode == 1
    assert res.stderr.startswith(f"Error: {out}") and "Permission denied" in res.stderr
    assert list(out.iterdir()) == []
