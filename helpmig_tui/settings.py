"""Where helpmig keeps things, its typed settings, and how secrets are found.

Paths come from platformdirs unless `--home DIR` or HELPMIG_HOME says otherwise (tests,
portable use on a USB stick). Secrets (the Intercom token, the SQL password, API keys)
come from the environment, the OS keyring when a real one exists (Windows Credential
Manager), or are typed in for the session; they are never written to a file by helpmig.

Every command imports this module, so it stays cheap: plain dataclasses for the handful
of settings (pydantic alone took half a second to import on a busy server), platformdirs
and keyring imported only when used.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from connectors.file_paths import absolute_path
from helpmig_tui import redact
from helpmig_tui.logs import process_log_name

APP_NAME = "helpmig"
HOME_ENV = "HELPMIG_HOME"
KEYRING_SERVICE = "helpmig"

MORE_TOKENS = re.compile(r"intercom_token_([2-9]|[1-9][0-9])")  # further apps of the same workspace


class _SecretEnv(dict[str, str]):
    """secret name -> environment variable; `intercom_token_2`, `_3`, ... are the further
    Intercom tokens (HELPMIG_INTERCOM_TOKEN_2, ...)."""

    def __missing__(self, name: str) -> str:
        if MORE_TOKENS.fullmatch(name):
            return f"HELPMIG_{name.upper()}"
        raise KeyError(name)

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            return self[name]
        except KeyError:
            return default


# secret name -> environment variable
SECRET_ENV: dict[str, str] = _SecretEnv({
    "intercom_token": "HELPMIG_INTERCOM_TOKEN",
    "sql_password": "HELPMIG_SQL_PASSWORD",
    "itsm365_access_key": "HELPMIG_ITSM365_ACCESS_KEY",
    "infraon_api_key": "HELPMIG_INFRAON_API_KEY",
    "infraon_password": "HELPMIG_INFRAON_PASSWORD",
    "llm_api_key": "HELPMIG_LLM_API_KEY",
})

Region = Literal["us", "eu", "au"]
INTERCOM_URLS: dict[str, str] = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}


DEMO_FILE = "demo.json"  # in a demo project's folder: what the demo generated and how to open it again


@dataclass(frozen=True)
class Paths:
    """Every place helpmig reads or writes on disk."""

    home: Path  # the data dir: projects live under it
    logs: Path

    @property
    def projects(self) -> Path:
        return self.home / "projects"

    def project_dir(self, name: str) -> Path:
        return self.projects / name

    def state_file(self, name: str) -> Path:
        return self.project_dir(name) / "state.sqlite"

    def demo_file(self, name: str) -> Path:
        """What a demo project was generated from, beside its state: no such file, no demo."""
        return self.project_dir(name) / DEMO_FILE

    def reports_dir(self, name: str) -> Path:
        return self.project_dir(name) / "reports"

    @property
    def log_file(self) -> Path:
        """This process's own log file (logs.py says why one per process)."""
        return self.logs / process_log_name()


def resolve_paths(home: str | os.PathLike[str] | None = None, env: Mapping[str, str] = os.environ) -> Paths:
    """`--home` wins, then HELPMIG_HOME, then the platform's user data dir.

    With an explicit home the logs go under it too, so a portable or test home is
    self-contained; otherwise they go to the platform's user log dir. The home is kept as
    typed, made absolute: a mapped drive stays `Z:\\`, never its `\\\\server\\share` form.
    """
    chosen = home or env.get(HOME_ENV)
    if chosen:
        root = absolute_path(chosen)
        return Paths(home=root, logs=root / "logs")
    import platformdirs

    return Paths(
        home=platformdirs.user_data_path(APP_NAME, appauthor=False),
        logs=platformdirs.user_log_path(APP_NAME, appauthor=False),
    )


THEMES = ("dark", "light")


@dataclass(frozen=True)
class LlmSettings:
    """The optional LLM proposer: any OpenAI-compatible chat-completions endpoint."""

    enabled: bool = False
    base_url: str = "http://127.0.0.1:11434/v1"
    model: str = "llama3.1"
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        try:
            timeout = float(self.timeout_s)
        except (TypeError, ValueError):
            raise ValueError(f"HELPMIG_LLM_TIMEOUT must be a number of seconds, not {self.timeout_s!r}") from None
        if timeout <= 0:
            raise ValueError(f"HELPMIG_LLM_TIMEOUT must be more than 0 seconds, not {self.timeout_s!r}")
        object.__setattr__(self, "timeout_s", timeout)


@dataclass(frozen=True)
class Settings:
    """Application settings that are not per project and never secret."""

    theme: Literal["dark", "light"] = "dark"
    intercom_region: Region = "us"
    intercom_url: str | None = None  # overrides the region (a sandbox, a proxy)
    llm: LlmSettings = field(default_factory=LlmSettings)

    def __post_init__(self) -> None:
        if self.theme not in THEMES:
            raise ValueError(f"HELPMIG_THEME must be one of {', '.join(THEMES)}, not {self.theme!r}")
        if self.intercom_region not in INTERCOM_URLS:
            raise ValueError(f"HELPMIG_INTERCOM_REGION must be one of {', '.join(INTERCOM_URLS)}, "
                             f"not {self.intercom_region!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """HELPMIG_THEME, HELPMIG_INTERCOM_REGION, HELPMIG_INTERCOM_URL, HELPMIG_LLM_*."""
        llm = LlmSettings(
            enabled=env.get("HELPMIG_LLM", "").lower() in {"1", "true", "yes", "on"},
            **{
                key: env[var]
                for key, var in (
                    ("base_url", "HELPMIG_LLM_BASE_URL"),
                    ("model", "HELPMIG_LLM_MODEL"),
                    ("timeout_s", "HELPMIG_LLM_TIMEOUT"),
                )
                if env.get(var)
            },
        )
        values: dict[str, object] = {"llm": llm}
        for key, var in (
            ("theme", "HELPMIG_THEME"),
            ("intercom_region", "HELPMIG_INTERCOM_REGION"),
            ("intercom_url", "HELPMIG_INTERCOM_URL"),
        ):
            if env.get(var):
                values[key] = env[var].lower() if key != "intercom_url" else env[var]
        return cls(**values)  # type: ignore[arg-type]

    def intercom_base_url(self) -> str:
        return self.intercom_url or INTERCOM_URLS[self.intercom_region]


# keyring backend module -> what the operator knows it as
KEYRING_NAMES = {
    "keyring.backends.Windows": "Windows Credential Manager",
    "keyring.backends.macOS": "macOS Keychain",
    "keyring.backends.SecretService": "Secret Service (GNOME Keyring, KeePassXC)",
    "keyring.backends.kwallet": "KWallet",
}


def secret_name(text: str) -> str:
    """A secret's name as typed (`intercom_token`, `intercom-token`, `HELPMIG_INTERCOM_TOKEN`);
    ValueError for a name helpmig does not use."""
    name = text.strip().lower().replace("-", "_").removeprefix("helpmig_")
    if name not in SECRET_ENV and not MORE_TOKENS.fullmatch(name):
        raise ValueError(f"unknown secret {text!r}: choose one of {', '.join(SECRET_ENV)}")
    return name


def _keyring():  # -> the keyring module
    """keyring, imported without its macOS backend's library look-up where that backend
    cannot serve: keyring imports every backend to rank them, and the macOS one asks the
    system's linker for three macOS libraries at import (on Linux, gcc and ld subprocesses:
    40 ms of every load's start-up). Off macOS that backend ranks itself out before it
    looks at them."""
    if sys.platform != "darwin":
        sys.modules.setdefault("keyring.backends.macOS.api", None)  # type: ignore[arg-type]
    import keyring

    return keyring


def keyring_label() -> str:
    """What the OS keyring is called, or which unusable backend keyring found."""
    backend = _usable_keyring()
    if backend is not None:
        module = type(backend).__module__
        return KEYRING_NAMES.get(module, f"{module}.{type(backend).__name__}")
    try:
        found = _keyring().get_keyring()
    except Exception as exc:  # keyring missing or broken
        return f"no keyring ({exc.__class__.__name__})"
    return f"no usable keyring (backend {type(found).__module__}.{type(found).__name__})"


def _usable_keyring():  # -> keyring backend or None
    """The OS keyring when it is a real, secure one; None otherwise.

    Headless Linux has only the `fail` backend, and keyrings.alt stores base64 text,
    which is no better than a file: both count as "no keyring".
    """
    try:
        keyring = _keyring()
        from keyring.backends import fail
    except Exception:  # keyring missing or broken: the environment and typing still work
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        return None
    module = type(backend).__module__
    if isinstance(backend, fail.Keyring) or module.startswith(("keyrings.alt", "keyring.backends.null")):
        return None
    if getattr(backend, "priority", 1) <= 0:
        return None
    if module.startswith("keyring.backends.chainer") and not getattr(backend, "backends", None):
        return None
    return backend


@dataclass
class Secrets:
    """Looks secrets up by name: environment, then keyring, then what was typed in, then
    `prompt` (the command line's hidden prompt on a terminal), asked once per name.

    Values are registered with `redact` the moment they are seen, so they are masked in
    every log line, report and error from then on.
    """

    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    use_keyring: bool = True
    prompt: Callable[[str], str | None] | None = field(default=None, repr=False)
    _session: dict[str, str] = field(default_factory=dict, repr=False)
    _asked: set[str] = field(default_factory=set, repr=False)

    def __repr__(self) -> str:
        known = ", ".join(f"{name}={redact.mask(value)}" for name in SECRET_ENV if (value := self._known(name)))
        return f"Secrets({known})"

    def _known(self, name: str) -> str | None:
        value = self.env.get(SECRET_ENV.get(name, ""), "") or self._session.get(name)
        if not value and self.use_keyring:
            value = self._from_keyring(name)
        redact.register(value)
        return value or None

    def get(self, name: str) -> str | None:
        value = self._known(name)
        if not value and self.prompt is not None and name not in self._asked:
            self._asked.add(name)
            value = self.prompt(name)
            if value:
                self._session[name] = value
        redact.register(value)
        return value or None

    def intercom_tokens(self) -> list[str]:
        """The Intercom token and the further tokens of apps of the same workspace
        (`intercom_token_2`, `_3`, ...: environment or keyring, never prompted for), up to
        the first number missing."""
        tokens: list[str] = []
        name, n = "intercom_token", 1
        while (value := self.get(name) if n == 1 else self._known(name)) is not None:
            if value not in tokens:
                tokens.append(value)
            n += 1
            name = f"intercom_token_{n}"
            if not MORE_TOKENS.fullmatch(name):
                break
        return tokens

    def source_of(self, name: str) -> str:
        """Where a secret came from, for the Connect screen: env, keyring, session or missing."""
        if self.env.get(SECRET_ENV.get(name, "")):
            return "environment"
        if name in self._session:
            return "typed in"
        if self.use_keyring and self._from_keyring(name):
            return "keyring"
        return "missing"

    def set_session(self, name: str, value: str) -> None:
        """A secret typed in: kept in memory for this session only."""
        redact.register(value)
        self._session[name] = value

    def save_to_keyring(self, name: str, value: str) -> bool:
        """Keep a secret in the OS keyring for later sessions; False when there is none."""
        backend = _usable_keyring() if self.use_keyring else None
        if backend is None:
            return False
        redact.register(value)  # before the store can echo it in an error
        backend.set_password(KEYRING_SERVICE, name, value)
        return True

    def delete_from_keyring(self, name: str) -> bool:
        """Forget a secret kept in the OS keyring; False when there was none."""
        backend = _usable_keyring() if self.use_keyring else None
        if backend is None or backend.get_password(KEYRING_SERVICE, name) is None:
            return False
        backend.delete_password(KEYRING_SERVICE, name)
        return True

    def keyring_available(self) -> bool:
        return self.use_keyring and _usable_keyring() is not None

    def _from_keyring(self, name: str) -> str | None:
        backend = _usable_keyring()
        if backend is None:
            return None
        try:
            return backend.get_password(KEYRING_SERVICE, name)
        except Exception:
            return None
