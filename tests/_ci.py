"""What a test needs from the machine: skipped on a developer's machine, a failure under CI.

Under CI (the ``CI`` environment variable set to a non-empty value) every dev dependency
(pingouin, krippendorff, playwright), the Debian chromium and the CJK font are required: a
missing one must turn the run red, not silently skip the tests that need it.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def in_ci() -> bool:
    """Whether the tests run under CI (``CI`` set to a non-empty value)."""
    return bool(os.environ.get("CI", "").strip())


def require(ok: bool, reason: str) -> None:
    """Nothing if ``ok``; else skip the test, or fail it under CI."""
    if ok:
        return
    if in_ci():
        pytest.fail(f"{reason} (required under CI: CI={os.environ.get('CI')!r})", pytrace=False)
    pytest.skip(reason)


def dev_import(name: str) -> ModuleType:
    """Import a dev dependency: ``pytest.importorskip`` outside CI, a failure under CI."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        require(False, f"{name} is not installed ({exc})")
        raise  # unreachable: require() skipped or failed
