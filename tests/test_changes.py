"""Tests of evalkit.evaluate.changes: the changes since the previous published list.

Every change and reason on one hand-made list: tests/test_recommend.py::
test_diff_each_change_and_reason (the test rubrics/v1/rules.yaml names for the opt-out rule).
"""

from __future__ import annotations

import pandas as pd
import pytest

from evalkit.errors import EvalkitError
from evalkit.evaluate.changes import CHANGE_REASONS, ChangesError, diff_with_previous


def test_diff_without_previous_everything_added() -> None:
    dec = pd.DataFrame({"app_id": ["A02", "A01", "A03"], "app_name": ["b", "a", "c"],
                        "status": ["recommended", "recommended", "not_recommended"],
                        "reasons": ["ranked:2/3", "ranked:1/3", "cap:total"]})
    d = diff_with_previous(dec, None)
    assert d["change"].tolist() == ["added", "added"]
    assert d["app_id"].tolist() == ["A01", "A02"] and set(d["reason"]) == {""}


def test_opt_out_reasons_are_the_registered_ones() -> None:
    assert CHANGE_REASONS == ("failed_reevaluation", "blacklisted", "greylisted", "assessment_expired", "withdrawn")


def test_a_frame_without_status_is_refused() -> None:
    with pytest.raises(ChangesError, match="The 'previous' parameter of diff_with_previous must be a "
                       "DataFrame with 'app_id' and 'status' columns; got DataFrame instead."):
        diff_with_previous(pd.DataFrame({"app_id": ["A"], "status": ["recommended"]}),
                           pd.DataFrame({"app_id": ["A"]}))
    assert issubclass(ChangesError, EvalkitError) and issubclass(ChangesError, ValueError)
