"""Fixtures for the Intercom client and sandbox tests."""

from __future__ import annotations

import pytest

from tests.intercom.contract.openapi import Contract, load_spec


@pytest.fixture(scope="session")
def contract() -> Contract:
    """The vendored OpenAPI 2.16 description, parsed once per session."""
    return Contract(load_spec())
