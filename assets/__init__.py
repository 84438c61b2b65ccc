"""Files shipped with helpmig: stylesheets, default maps per platform, report templates."""

from importlib.resources import files
from importlib.resources.abc import Traversable


def asset(*parts: str) -> Traversable:
    """A file shipped in the assets package, e.g. asset("maps", "smartertrack.toml")."""
    node = files(__name__)
    for part in parts:
        node = node.joinpath(part)
    return node
