"""The wheel works outside the checkout, as a provincial office installs it (issue 14).

Builds the wheel (and the sdist) from this checkout, installs the wheel into a fresh virtual
environment and runs the commands from empty folders outside the checkout.  The fresh
environment reuses the test environment's installed dependencies through a ``.pth`` line
naming its site-packages: such a line only extends ``sys.path`` (the ``.pth`` files in that
folder, e.g. the editable install's finder of this checkout, are not run), so ``evalkit``
itself can only come from the wheel; the test checks that it does.  ``JUPYTER_PATH`` names the
test environment's ``share/jupyter`` (nbconvert's templates), which an install of the
dependencies into the new environment would have put there.

Select these with ``-m install``; they build and publish, so they are also ``slow``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.install, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
AS_OF = "2026-09-01"
#: The shipped folders (evalkit.resources) as the wheel carries them.
SHIPPED = ("rubrics", "notebooks", "data/sample")


def _checkout_files(folder: str) -> list[str]:
    """The files of a shipped folder that git holds (the one source)."""
    out = subprocess.run(["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:  # not a git checkout (an unpacked sdist): the folder's files
        return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob("*") if p.is_file())
    return sorted(out.stdout.split())


@dataclass
class Installed:
    """The fresh environment with the wheel installed."""

    wheel: Path
    venv: Path
    site: Path
    env: dict[str, str]

    def run(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        res = subprocess.run([str(a) for a in args], cwd=cwd, env=self.env, capture_output=True, text=True,
                             encoding="utf-8", check=False)
        assert "Traceback" not in res.stdout + res.stderr, res.stderr
        return res

    def evalkit(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        return self.run(self.venv / "bin" / "evalkit", *args, cwd=cwd)

    def python(self, code: str, cwd: Path) -> str:
        res = self.run(self.venv / "bin" / "python", "-c", code, cwd=cwd)
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("install")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                            "--disable-pip-version-check", "-q", "-w", str(base / "dist")],
                           cwd=base, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (base / "dist").glob(f"evalkit-{VERSION}-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # the dependencies (and pip) of the test environment, not its evalkit: see the module docstring
    (site / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["EVALKIT_CACHE_DIR"] = str(base / "cache")
    # the dependencies' data files (nbconvert's HTML templates) are under the test environment's
    # prefix: pip puts them under the new environment's prefix when it installs them there
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(Path(sys.prefix) / "share" / "jupyter"),
                                                        env.get("JUPYTER_PATH", "")]))
    inst = Installed(wheel, venv, site, env)
    res = inst.run(venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                   "--disable-pip-version-check", wheel, cwd=base)
    assert res.returncode == 0, res.stdout + res.stderr
    return inst


def test_the_wheel_carries_the_shipped_folders_once(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder in SHIPPED:
        files = _checkout_files(folder)
        assert files, folder
        for rel in files:
            assert f"evalkit/_resources/{rel}" in names, rel
    assert "evalkit/_resources/notebooks/reports.yaml" in names
    shipped = ("page.html", "report.css", "report.js", "apps.js", "plotly-basic.min.js")
    assert {f"evalkit/assets/{n}" for n in shipped} <= names
    assert not [n for n in names if "__pycache__" in n or ".ipynb_checkpoints" in n or "/." in n]
    assert "evalkit/py.typed" in names
    # no second copy in git: the build writes the copy into its build folder only
    assert not (ROOT / "evalkit" / "_resources").exists()


def test_the_sdist_carries_the_shipped_folders(tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta; "
                          "print(build_meta.build_sdist(sys.argv[1]))", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    with tarfile.open(tmp_path / res.stdout.strip().splitlines()[-1]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for folder in SHIPPED:
        assert set(_checkout_files(folder)) <= names, folder
    assert {"setup.py", "MANIFEST.in", "pyproject.toml", "evalkit/assets/plotly-basic.min.js"} <= names


def test_evalkit_comes_from_the_wheel_and_finds_its_resources(installed: Installed, tmp_path: Path) -> None:
    got = installed.python(
        "import evalkit, evalkit.resources as r; rb = evalkit.load_rubric(); "
        "print(evalkit.__file__, r.rubrics_dir(), r.reports_config(), r.sample_dir(), r.assets_dir(), "
        "rb.version, evalkit.__version__, sep='\\n')", cwd=tmp_path)
    module, rubrics, reports_yaml, sample, assets, version, dunder = got.splitlines()
    package = installed.site / "evalkit"
    assert Path(module) == package / "__init__.py"
    assert Path(rubrics) == package / "_resources" / "rubrics"
    assert Path(reports_yaml) == package / "_resources" / "notebooks" / "reports.yaml"
    assert Path(sample) == package / "_resources" / "data" / "sample"
    assert Path(assets) == package / "assets"
    assert (version, dunder) == ("1", VERSION)
    res = installed.evalkit("--version", cwd=tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == f"evalkit {VERSION}"


def test_an_editable_install_reads_the_checkout(tmp_path: Path) -> None:
    """``pip install -e .`` copies nothing: the resources are the checkout's folders."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_test_environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    res = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                          "-q", "--disable-pip-version-check", "-e", str(ROOT)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run([str(python), "-c", "import evalkit.resources as r; print(r.rubrics_dir(), r.sample_dir())"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == [str(ROOT / "rubrics"), str(ROOT / "data" / "sample")]
    assert not (ROOT / "evalkit" / "_resources").exists()


def _exports(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix in (".csv", ".json", ".xlsx")}


def test_every_command_works_from_an_empty_folder(installed: Installed, tmp_path: Path, published_sample) -> None:
    sample = installed.python("from evalkit import resources; print(resources.sample_dir())", cwd=tmp_path)
    res = installed.evalkit("validate", sample, "--as-of", AS_OF, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = installed.evalkit("rubric", "check", cwd=tmp_path)
    assert res.returncode == 0 and "ok: rubric v1" in res.stdout, res.stderr
    res = installed.evalkit("generate", "gen", "--scale", "province", "--province", "11", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert installed.evalkit("validate", "gen", cwd=tmp_path).returncode == 0
    res = installed.evalkit("run", "--province", "11", "--as-of", AS_OF, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "reports" / AS_OF / "11" / "decisions.csv").is_file()
    res = installed.evalkit("publish", "--provinces", "11", "--out", "published", "--quiet", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    published = tmp_path / "published" / AS_OF
    assert (published / "index.html").is_file() and (published / "11" / "recommendation.html").is_file()
    # the sample workspace of the "done when", then a publish with no flag at all
    res = installed.evalkit("init", "ws", "--sample", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = installed.evalkit("publish", "--quiet", cwd=tmp_path / "ws")
    assert res.returncode == 0, res.stderr
    in_workspace = tmp_path / "ws" / "reports" / AS_OF
    assert sorted(p.name for p in in_workspace.iterdir() if p.is_dir()) == ["11", "assets"]
    # the workspace (its copied sample and profiles) publishes the same exports as the package's sample
    mine, shipped = _exports(in_workspace), _exports(published)
    assert sorted(mine) == sorted(shipped) and "11/provenance.json" in mine
    assert [name for name in mine if mine[name] != shipped[name]] == []
    # ... and as the checkout publishes the sample (conftest's publish of 11, 31 and 44)
    checkout = _exports(published_sample[0] / "11")
    assert sorted(checkout) == sorted(n.removeprefix("11/") for n in mine if n.startswith("11/"))
    assert [name for name in checkout if checkout[name] != mine[f"11/{name}"]] == []
