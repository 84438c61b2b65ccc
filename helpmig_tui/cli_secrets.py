"""Secrets on the command line: typed at a hidden prompt, never on the command line itself.

A password given as an argument or in `set HELPMIG_SQL_PASSWORD=...` ends up in the shell's
history or is mangled by cmd.exe (`^`, `%`, `!`); so when a command needs a password that
neither the environment nor the credential store has, and a person is at the terminal, it
asks once, hidden (getpass), and keeps the answer for this process only. Without a
terminal (a scheduled task) nothing is asked: the command says which secret is missing.
"""

from __future__ import annotations

import sys

from helpmig_tui.settings import SECRET_ENV, Secrets

PROMPTS = {  # the secrets worth asking for; tokens and keys go through `helpmig secret set`
    "sql_password": "Password of the SQL login",
    "infraon_password": "Infraon password",
}


def read_hidden(prompt: str) -> str:
    """A secret typed at a hidden prompt; piped in (no terminal), the first line of stdin."""
    if sys.stdin is None:
        return ""
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\r\n")


def ask(name: str) -> str | None:
    """The hidden prompt for a password, on a terminal only; None when nothing was typed."""
    if name not in PROMPTS or sys.stdin is None or not sys.stdin.isatty():
        return None
    label = PROMPTS[name]
    value = read_hidden(f"{label} (hidden; `helpmig secret set {name}` or {SECRET_ENV[name]} skips this): ")
    return value or None


def prompting_secrets() -> Secrets:
    """The command line's secrets: environment, credential store, then the hidden prompt."""
    return Secrets(prompt=ask)
