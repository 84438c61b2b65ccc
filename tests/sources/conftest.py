"""Small generated help desks, built once per test session (they take milliseconds)."""

from __future__ import annotations

import pytest

from connectors.samples import Manifest, generate_smartertrack, generate_trackit
from connectors.smartertrack import SmarterTrackSource
from connectors.trackit import TrackItSource
from tests.sources.helpers import no_secret

TICKETS = 60
LARGE_BODY = 60_000


@pytest.fixture(scope="session")
def st_manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return generate_smartertrack(
        tmp_path_factory.mktemp("smartertrack"), tickets=TICKETS, seed=5, large_body=LARGE_BODY
    )


@pytest.fixture(scope="session")
def ti_manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return generate_trackit(tmp_path_factory.mktemp("trackit"), tickets=TICKETS, seed=9, large_body=LARGE_BODY)


@pytest.fixture
def st(st_manifest: Manifest):
    with SmarterTrackSource.from_options(st_manifest.options, no_secret) as source:
        yield source


@pytest.fixture
def ti(ti_manifest: Manifest):
    with TrackItSource.from_options(ti_manifest.options, no_secret) as source:
        yield source
