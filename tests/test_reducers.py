"""Tests of evalkit.mcda.reducers: one registry of panel reducers, each with its fast path.

The values of every reducer are checked in tests/test_panel.py (the groupby definitions) and
tests/test_rater_kernel.py (the fast paths over rater counts against the gathered scores).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.evaluate import panel
from evalkit.mcda.rater_resample import CountedPanels, pick_counts
from evalkit.mcda.reducers import REDUCERS, TRIM_MIN_RATERS, Reducer
from evalkit.registry import Registry, RegistryError


def test_one_registry_shared_by_the_panel() -> None:
    assert isinstance(REDUCERS, Registry)
    assert list(REDUCERS) == ["mean", "median", "trimmed_mean"]
    assert panel.REDUCERS is REDUCERS


@pytest.mark.parametrize("name", sorted(REDUCERS))
def test_every_entry_is_a_reducer_with_its_fast_path(name: str) -> None:
    entry = REDUCERS[name]
    assert isinstance(entry, Reducer) and callable(entry.reduce) and callable(entry.counted)
    g = pd.Series([1.0, 2.0, 3.0, 4.0, 10.0]).groupby([0] * 5)
    assert entry(g).equals(entry.reduce(g))  # calling the entry calls its definition


def test_the_fast_paths_on_one_resample() -> None:
    """Raters 1, 2, 3, 4, 10 drawn once each, then rater 10 drawn twice and rater 1 not at all.

    First resample: mean 20/5 = 4, median 3, trimmed mean (20 - 1 - 10)/3 = 3.
    Second (2, 3, 4, 10, 10): mean 29/5 = 5.8, median 4, trimmed (29 - 2 - 10)/3 = 17/3.
    """
    vals = np.array([1.0, 2.0, 3.0, 4.0, 10.0])[None, :, None]  # (1 panel, 5 raters, 1 criterion)
    pick = np.array([[[0, 1, 2, 3, 4], [1, 2, 3, 4, 4]]])  # (1 panel, 2 draws, 5 picks)
    counts = pick_counts(pick, np.ones((1, 5), dtype=bool), 5)
    panels = CountedPanels(vals)
    got = {name: panels.reduce(counts, REDUCERS[name])[0, :, 0].tolist() for name in REDUCERS}
    assert got == {"mean": [4.0, 5.8], "median": [3.0, 4.0], "trimmed_mean": [3.0, 17 / 3]}
    assert TRIM_MIN_RATERS == 5


def test_a_name_is_registered_once_and_unknown_names_are_refused() -> None:
    with pytest.raises(RegistryError, match="registered twice"):
        REDUCERS.register("mean", REDUCERS["mean"])
    with pytest.raises(RegistryError, match=r"The 'reducer' parameter of f must be one of \['mean', 'median', "
                       r"'trimmed_mean'\]; got 'meen' instead. Did you mean 'mean'\?"):
        REDUCERS.lookup("meen", param="reducer", func="f")
    with pytest.raises(panel.PanelError, match="Did you mean 'median'"):
        panel.get_reducer("medain")
