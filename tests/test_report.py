"""Display helpers of the report notebooks (evalkit.report)."""

from __future__ import annotations

import pandas as pd

from evalkit.report import _display


def test_tiny_positive_values_are_not_shown_as_zero():
    """A p-value of 1e-9 rounded to 3 decimals must read "<0.001", not "0.0"."""
    shown = _display(pd.DataFrame({"p": [0.0, 1e-9, 0.0004, 0.5, None]}), 3)
    assert shown["p"].tolist() == ["0.0", "<0.001", "<0.001", "0.5", "–"]
