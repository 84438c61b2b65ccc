"""Sample sources for `helpmig demo`, the tests and the benchmarks: real table layouts in
SQLite, attachment files on disk, planted messy cases and a manifest of the ground truth."""

from connectors.samples.manifest import Manifest
from connectors.samples.smartertrack import generate_smartertrack
from connectors.samples.trackit import generate_trackit

__all__ = ["Manifest", "generate_smartertrack", "generate_trackit"]
