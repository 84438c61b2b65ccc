"""The wizard's first frame waits for no import it does not draw with: the store
(SQLAlchemy) and the engine are imported after it, when the picker reads the projects."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent("""
    import json, sys
    from helpmig_tui import cli

    def open_wizard(args):
        from helpmig_tui.app import make_app
        from screens.welcome import WelcomeScreen

        app = make_app(paths=cli._paths(args))
        WelcomeScreen(app.paths).compose  # the picker's class, as the first frame needs it
        heavy = ("sqlalchemy", "helpmig_tui.project", "helpmig_tui.state", "pydantic", "httpx")
        print(json.dumps(sorted(name for name in heavy if name in sys.modules)))
        return 0

    cli._open_wizard = open_wizard
    sys.exit(cli.main(["--home", sys.argv[1]]))
""")


def test_the_wizard_is_opened_before_the_store_is_imported(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "home")], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


LOAD_PROBE = textwrap.dedent("""
    import json, sys
    from helpmig_tui import cli

    def run(name):
        def handler(args):
            from helpmig_tui import cli_pipeline  # what `helpmig load` imports before its first call
            from helpmig_tui.settings import Secrets

            Secrets().intercom_tokens()  # the keyring, looked at for further tokens
            ui = ("textual", "rich", "screens", "click", "pygments", "helpmig_tui.app", "openpyxl", "pyodbc")
            print(json.dumps(sorted(name for name in ui if name in sys.modules)))
            return 0

        return handler

    cli._run = run
    sys.exit(cli.main(["--home", sys.argv[1], "load", "p", "--yes"]))
""")


def test_a_load_on_the_command_line_imports_no_screen_library(tmp_path):
    done = subprocess.run([sys.executable, "-c", LOAD_PROBE, str(tmp_path / "home")], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


WIRE_PROBE = textwrap.dedent("""
    import asyncio, json, socket, sys
    from helpmig_tui import cli

    # `helpmig load` as the command line runs it, up to the project it cannot find
    code = cli.main(["--home", sys.argv[1], "load", "no-such-project", "--yes"])
    from connectors.intercom import IntercomClient, IntercomConnectionError, RetryPolicy
    from connectors.registry import source_class

    for platform in ("smartertrack", "trackit"):  # the SQL sources a load opens
        source_class(platform)
    with socket.socket() as spare:  # a port nothing listens on: the connection is refused
        spare.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d" % spare.getsockname()[1]

    async def first_call():
        client = IntercomClient("a-token", base_url=url, retry=RetryPolicy(max_attempts=2, backoff_base=0.01))
        try:
            await client.me()
        except IntercomConnectionError as exc:
            return str(exc)
        finally:
            await client.aclose()

    said = asyncio.run(first_call())
    cut = ("httpx", "httpcore", "anyio", "h11", "idna", "sniffio")
    print(json.dumps({"code": code, "engine": "helpmig_tui.cli_pipeline" in sys.modules, "said": said,
                      "imported": sorted(name for name in cut if name in sys.modules)}))
""")


def test_a_load_reaches_intercom_and_retries_without_importing_httpx(tmp_path):
    """httpx is imported only for an injected transport: the wire carries a load's requests,
    and its failures are its own (the retry rules recognise httpx's too, where it is used)."""
    done = subprocess.run([sys.executable, "-c", WIRE_PROBE, str(tmp_path / "home")], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] == 2 and result["engine"]  # the engine imported, the missing project said
    assert "connect_error after 2 attempts (ConnectError:" in result["said"]  # not sent, so retried, then said
    assert result["imported"] == []
