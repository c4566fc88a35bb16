"""Shared fixtures: published report sets built ONCE per test session.

* ``fake_published``: provinces 11, 12, 31 from throwaway fixture notebooks
  (tests/fixtures/notebooks; 31 fails on purpose) with the national evaluation replaced by a
  tiny fake whose register holds hostile provider text.  Depends on no pipeline.
* ``published_sample``: the real notebooks on data/sample for a few provinces (skipped until
  the pipeline and the sample exist).
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
AS_OF = "2026-09-01"
SAMPLE_PROVINCES = "11,31,44"
HOSTILE = "</script><script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"


def fake_prepare(staging, data_dir, as_of, codes, lang, previous_dir=None):
    """Stand-in for the national evaluation: one export per province and a tiny register."""
    for code in codes:
        (staging / code).mkdir(parents=True, exist_ok=True)
        (staging / code / "decisions.csv").write_text(f"app_id,province\nA1,{code}\n", encoding="utf-8")
    summary = pd.DataFrame({"code": codes, "name_zh": codes, "name_en": codes})
    register = pd.DataFrame({
        "app_id": ["E1", "E2", "E3"], "app_name": ["学习通", HOSTILE, "作业帮手"],
        "provider": ["甲公司", "乙", "丙教育科技有限公司"], "provider_id": ["P1", "P2", "P3"],
        "status": ["推荐", "未申报", "排除"],
    })
    return {"summary": summary, "register": register}


@pytest.fixture(scope="session")
def fake_published(tmp_path_factory):
    """(out, data, PublishResult) of one local publish with 2 workers."""
    from evalkit import publish as pub

    out = tmp_path_factory.mktemp("fakepub")
    data = tmp_path_factory.mktemp("fakedata")
    with mock.patch.object(pub, "_prepare", fake_prepare):
        result = pub.publish(data, AS_OF, provinces="11,12,31", workers=2, out_dir=out,
                             reports=FIXTURE_NOTEBOOKS / "reports.yaml", progress=False)
    return out, data, result


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory):
    """(data_dir, as_of, provinces): data/sample, or the hand-made mini dataset until it exists."""
    if not (ROOT / "evalkit" / "pipeline.py").is_file():
        pytest.skip("evalkit.pipeline not available yet")
    sample = ROOT / "data" / "sample"
    if (sample / "apps.csv").is_file() or (sample / "apps.parquet").is_file():
        return sample, AS_OF, SAMPLE_PROVINCES
    import _mini

    folder = _mini.write_tables(tmp_path_factory.mktemp("mini"))
    return folder, _mini.AS_OF, SAMPLE_PROVINCES


@pytest.fixture(scope="session")
def published_sample(tmp_path_factory, sample_data):
    """(folder, PublishResult, data_dir) of the real notebooks on the sample (a few provinces)."""
    from evalkit import publish as pub

    data, as_of, provinces = sample_data
    out = tmp_path_factory.mktemp("samplepub")
    result = pub.publish(data, as_of, provinces=provinces, workers=2, out_dir=out, progress=False)
    return out / as_of, result, data
