"""Fixtures shared by the pipeline's test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.kept_phases import Seen, cut_demo_home


@pytest.fixture(scope="module")
def cut_demo(tmp_path_factory) -> tuple[Path, Seen]:
    """A demo loaded until its conversations phase moved, then stopped: once per module."""
    return cut_demo_home(tmp_path_factory.mktemp("cut"))
