"""The base layer: one registry type, one date rule, one resource finder."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from evalkit import resources
from evalkit.dates import DateError, parse_date
from evalkit.errors import EvalkitError
from evalkit.registry import Registry, RegistryError


def test_registry_registers_looks_up_and_refuses_with_the_one_template() -> None:
    methods: Registry = Registry("ranking method")

    @methods.register("weighted_sum")
    def _ws(x):
        return x

    methods.register("topsis", len)
    assert list(methods) == ["weighted_sum", "topsis"] and len(methods) == 2
    assert methods.lookup("topsis") is len and methods["weighted_sum"] is _ws
    assert "topsis" in methods and methods.get("nope") is None
    with pytest.raises(RegistryError) as err:
        methods.lookup("topsys", param="method", func="ListRules")
    assert isinstance(err.value, EvalkitError)
    assert str(err.value) == ("The 'method' parameter of ListRules must be one of ['weighted_sum', 'topsis']; "
                              "got 'topsys' instead. Did you mean 'topsis'? Available: weighted_sum, topsis.")
    with pytest.raises(RegistryError, match="registered twice"):
        methods.register("topsis", max)


@pytest.mark.parametrize("value", ["2026-09-01", " 2026-09-01 ", dt.date(2026, 9, 1), dt.datetime(2026, 9, 1, 17, 30),
                                   pd.Timestamp("2026-09-01 08:00", tz="Asia/Shanghai"), np.datetime64("2026-09-01")])
def test_every_form_of_a_date_reads_as_that_day(value) -> None:
    assert parse_date(value) == pd.Timestamp("2026-09-01")


@pytest.mark.parametrize("value", ["2026", "2026-09", "01/09/2026", "2026-02-30", "", None, 20260901, pd.NaT])
def test_partial_or_unreadable_dates_are_refused_never_guessed(value) -> None:
    with pytest.raises(DateError) as err:
        parse_date(value, func="credit.evaluate")
    assert str(err.value).startswith("The 'as_of' parameter of credit.evaluate must be a date (YYYY-MM-DD); got ")
    assert isinstance(err.value, EvalkitError) and isinstance(err.value, ValueError)


def test_every_entry_point_reads_as_of_by_the_one_rule(tmp_path) -> None:
    """`credit.evaluate(..., "2026")` used to run as of 1 January while load_dataset refused it."""
    from evalkit.data import dataset
    from evalkit.evaluate import credit, pipeline, scoring
    from evalkit.rubric import load_rubric

    no_credit = pd.DataFrame({"provider_id": [], "list": [], "ban_until": []})
    for call in (lambda: dataset.parse_as_of("2026"), lambda: credit.banned_providers(no_credit, "2026"),
                 lambda: pipeline.find_previous(tmp_path, "44", "2026"),
                 lambda: scoring.evaluate(None, load_rubric(), {}, "2026")):
        with pytest.raises(DateError, match="must be a date \\(YYYY-MM-DD\\); got '2026' instead"):
            call()


def test_resources_are_found_in_the_checkout() -> None:
    assert (resources.rubrics_dir() / "profiles" / "national.yaml").is_file()
    assert resources.profiles_dir() == resources.rubrics_dir() / "profiles"
    assert resources.reports_config().is_file() and resources.notebooks_dir().is_dir()
    assert (resources.sample_dir() / "apps.csv").is_file()
    assert (resources.assets_dir() / "report.css").is_file()
