"""Output that works on any console: every command that prints, run with a cp1252 console
(PYTHONIOENCODING=cp1252, as Windows gives a redirected stream: the commands in this process
on such streams, the demo, a refusal and `map --show` in child processes); JSON that is ASCII;
progress through Rich on a terminal; the heartbeat that never lets a command go quiet
for more than two seconds, with the rate-limit countdown of a 429 storm."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from connectors.intercom import IntercomClient, RetryPolicy
from connectors.intercom.sandbox import DEFAULT_TOKEN
from connectors.intercom.session import describe_waits
from helpmig_tui.cli import main
from helpmig_tui.cli_output import Console, Heartbeat, Table, json_text, print_result
from helpmig_tui.demo import prepare_demo
from helpmig_tui.settings import resolve_paths
from tests.support.cli import serving

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    paths = resolve_paths(tmp_path_factory.mktemp("cp1252") / "home")
    demo = prepare_demo(paths, "trackit", 8)
    with serving(demo) as url:
        yield paths, demo, url


def _cp1252(paths, *argv: str) -> subprocess.CompletedProcess[str]:
    """`helpmig` in a child process whose console is cp1252 (PYTHONIOENCODING, strict)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "cp1252", "HELPMIG_INTERCOM_TOKEN": DEFAULT_TOKEN}
    return subprocess.run([sys.executable, "-m", "helpmig_tui", "--home", str(paths.home), *argv], env=env,
                          capture_output=True, timeout=300, stdin=subprocess.DEVNULL, encoding="cp1252",
                          errors="strict")


def _cp1252_here(paths, monkeypatch, *argv: str) -> subprocess.CompletedProcess[str]:
    """The same in this process: `main` with stdout and stderr as the child gets them from
    PYTHONIOENCODING=cp1252 (stdout strict, stderr backslashreplace), then decoded strictly.
    It spares a child's start-up (a third of a second a command) and still fails on any
    character the command writes that cp1252 cannot encode, unless the command replaces it."""
    out, err = io.BytesIO(), io.BytesIO()
    streams = (io.TextIOWrapper(out, encoding="cp1252", errors="strict", write_through=True),
               io.TextIOWrapper(err, encoding="cp1252", errors="backslashreplace", write_through=True))
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    with monkeypatch.context() as patched:
        patched.setattr(sys, "stdout", streams[0])
        patched.setattr(sys, "stderr", streams[1])
        try:
            code = main(["--home", str(paths.home), *argv])
        except SystemExit as exc:  # argparse's --version and --help
            code = exc.code if isinstance(exc.code, int) else 0
        for stream in streams:
            stream.flush()
    return subprocess.CompletedProcess(argv, code, out.getvalue().decode("cp1252", errors="strict"),
                                       err.getvalue().decode("cp1252", errors="strict"))


# in order: each step leaves the project ready for the next
PRINTING = [
    ("--version",), ("--help",), ("projects",), ("status", "{p}"), ("findings", "{p}"), ("map", "{p}", "--show"),
    ("map", "{p}", "--show", "--json"), ("map", "{p}", "--export", "{tmp}/map.toml"), ("audit", "{p}"),
    ("map", "{p}", "--propose"), ("map", "{p}", "--confirm", "all"), ("connect", "{p}", "--intercom-url", "{url}"),
    ("plan", "{p}"), ("load", "{p}", "--sample", "2", "--yes"), ("validate", "{p}", "--sample", "2"),
    ("rollback", "{p}", "--sample", "--yes"), ("load", "{p}", "--yes"), ("delta", "{p}"), ("report", "{p}"),
    ("status", "{p}", "--json"), ("projects", "--json"),
]


def test_every_command_that_prints_survives_a_cp1252_console(served, tmp_path, monkeypatch):
    paths, demo, url = served
    for step in PRINTING:
        argv = [a.format(p=demo.project, tmp=tmp_path, url=url) for a in step]
        done = _cp1252_here(paths, monkeypatch, *argv)
        assert done.returncode == 0, (argv, done.stderr)
        assert "Traceback" not in done.stderr and "UnicodeEncodeError" not in done.stderr, (argv, done.stderr)
        assert done.stdout.strip() or done.stderr.strip(), argv
        if "--json" in argv:
            assert done.stdout.isascii()  # escaped: any code page reads it
            json.loads(done.stdout)
    for shown in (_cp1252_here(paths, monkeypatch, "map", demo.project, "--show"),
                  _cp1252(paths, "map", demo.project, "--show")):  # and once on a real child's console
        assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
        assert " ? " in shown.stdout or "->" in shown.stdout  # the arrow the console cannot show, replaced


def test_the_demo_and_a_refusal_survive_a_cp1252_console(tmp_path):
    paths = resolve_paths(tmp_path / "home")
    done = _cp1252(paths, "demo", "--headless", "--tickets", "3", "--source", "smart-export")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    refused = _cp1252(paths, "status", "nicht-da-\u00e9")  # a name cp1252 can show
    assert refused.returncode == 2 and refused.stderr.startswith("helpmig: ")


def test_json_is_ascii_escaped():
    text = json_text({"subject": "Drucker \u2192 kaputt \u2603"})
    assert text.isascii() and json.loads(text) == {"subject": "Drucker \u2192 kaputt \u2603"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_goes_through_rich_and_plain_lines_elsewhere():
    screen = Terminal()
    console = Console(screen)
    console.status("contacts: customers 5/30")
    assert console._live is not None  # Rich's live line: it speaks the classic Windows console's API too
    console.line("phase companies [ok]: 8 in, 8 created")
    console.close()
    drawn = screen.getvalue()
    assert "phase companies [ok]" in drawn and "contacts: customers 5/30" in drawn

    piped = io.StringIO()
    console = Console(piped)
    console.status("contacts: customers 5/30")
    console.line("phase companies [ok]")
    assert piped.getvalue() == "contacts: customers 5/30\nphase companies [ok]\n"


def test_tables_are_drawn_on_a_terminal_and_aligned_text_when_redirected():
    table = Table(("Phase", "API calls"), [("contacts", 1234), ("conversations", 56)], frozenset({1}))
    piped = io.StringIO()
    print_result(["Plan:", table], piped)
    assert piped.getvalue().splitlines() == ["Plan:", "Phase          API calls", "contacts           1,234",
                                             "conversations         56"]
    screen = Terminal()
    print_result([table], screen)
    assert "conversations" in screen.getvalue() and "1,234" in screen.getvalue()


def test_the_heartbeat_speaks_after_two_quiet_seconds_and_says_what_it_waits_for():
    out = io.StringIO()
    console = Console(out)
    console.status("contacts: customers 5/30")
    waits = ["Intercom's rate limit: 3 answers were 429 so far; next try in 7 s"]
    beat = Heartbeat(console, "load", probes=(lambda: waits[0] if waits else None,))
    beat.beat()
    assert out.getvalue().count("\n") == 1  # it spoke just now: nothing to add
    console.last_spoke -= 2.5  # two and a half quiet seconds
    beat.beat()
    assert out.getvalue().splitlines()[-1] == "load: Intercom's rate limit: 3 answers were 429 so far; next try in 7 s"
    waits.clear()
    console.last_spoke -= 2.5
    beat.beat()
    assert out.getvalue().splitlines()[-1].startswith("contacts: customers 5/30 (still working; no change for")


def test_the_heartbeat_keeps_quiet_while_the_operator_answers_a_prompt():
    out = io.StringIO()
    console = Console(out)
    beat = Heartbeat(console, "rollback", probes=())
    with console.prompt():
        console.last_spoke -= 10
        beat.beat()
        assert out.getvalue() == ""  # nothing written over the question
    beat.beat()
    assert out.getvalue() == ""  # the answer was news: two quiet seconds start again


class Always429(BaseHTTPRequestHandler):
    """A server in a 429 storm, as Intercom answers when another app spent the workspace's
    window: every request refused, the window's reset three seconds away."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit"}]}'
        self.send_response(429)
        for name, value in (("Content-Type", "application/json"), ("X-RateLimit-Limit", "1667"),
                            ("X-RateLimit-Remaining", "0"), ("X-RateLimit-Reset", str(int(time.time()) + 3)),
                            ("Content-Length", str(len(body)))):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def storm() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Always429)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_429_storm_says_how_long_until_the_next_try(storm):
    """The client's own state, as the heartbeat reads it: blocked by a 429, with a countdown."""

    async def wait_out() -> list[str]:
        said: list[str] = []
        async with IntercomClient(DEFAULT_TOKEN, base_url=storm, retry=RetryPolicy(max_rate_limit_waits=1)) as client:
            waiting = asyncio.create_task(client.me())
            while not waiting.done():
                if text := describe_waits():
                    said.append(text)
                await asyncio.sleep(0.05)
            assert isinstance(waiting.exception(), Exception)  # RateLimited after the waits
        return said

    said = asyncio.run(wait_out())
    assert said and "Intercom's rate limit: 1 answer was 429 so far; next try in" in said[0]
    assert describe_waits() is None  # a closed client waits for nothing


def test_connect_in_a_429_storm_is_never_silent(storm, tmp_path, capsys, monkeypatch):
    """The issue's case: `connect` against a server that answers 429 to everything used to
    print nothing until it gave up. Now it says, while it waits, how long until the next try."""
    monkeypatch.setenv("HELPMIG_INTERCOM_TOKEN", DEFAULT_TOKEN)
    home = str(tmp_path / "home")
    assert main(["--home", home, "init", "p", "--source", "smart-export", "--folder", str(tmp_path)]) == 0
    capsys.readouterr()
    code = main(["--home", home, "connect", "p", "--intercom-url", storm])
    err = capsys.readouterr().err
    assert code == 1 and err.splitlines()[-1].startswith("helpmig: Intercom answered 429"), err
    waits = [line for line in err.splitlines() if "Intercom's rate limit" in line]
    assert waits and all("next try in" in line for line in waits), err
