"""The vendored Intercom OpenAPI 2.16 description (YAML, as upstream publishes it) and the
validator the sandbox builds from its JSON copy (connectors/intercom/sandbox/contract.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from connectors.intercom.sandbox.contract import Contract, Violation

SPEC_PATH = Path(__file__).with_name("api.intercom.io.yaml")
SPEC_SHA256 = "212b09336bf561992d998e6650d4eaacb44aa0a0f02504e398cf10f1cfb9d238"

__all__ = ["SPEC_PATH", "SPEC_SHA256", "Contract", "Violation", "file_sha256", "load_spec"]


def file_sha256(path: Path = SPEC_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as handle:
        return yaml.load(handle, Loader=loader)
