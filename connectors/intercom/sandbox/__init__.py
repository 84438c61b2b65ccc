"""An Intercom look-alike for the demo, rehearsals and tests.

`Sandbox` is the ASGI app with its state; `serve()` runs it as a real server (what
`helpmig sandbox` and `python -m connectors.intercom.sandbox` call).
"""

from connectors.intercom.sandbox.app import DEFAULT_TOKEN, SANDBOX_URL, Sandbox
from connectors.intercom.sandbox.config import FAULT_KINDS, SandboxConfig
from connectors.intercom.sandbox.server import running_server, serve

__all__ = ["DEFAULT_TOKEN", "FAULT_KINDS", "SANDBOX_URL", "Sandbox", "SandboxConfig", "running_server", "serve"]
