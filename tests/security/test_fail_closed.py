"""Fail closed: `python -m bot serve` without an app id (nothing authenticates a request)
starts only on loopback, unless the operator says in so many words that it is a test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web

from bot.__main__ import is_loopback, main

if TYPE_CHECKING:
    from pathlib import Path

APP_ID = "0b7c9f2e-5d4a-4c1b-9e8f-1a2b3c4d5e6f"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    """A clean environment (no `.env`, no app id) and `run_app` recorded, not run."""
    monkeypatch.chdir(tmp_path)
    for name in ("APP_ID", "MicrosoftAppId", "APP_PASSWORD", "MicrosoftAppPassword", "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    calls: list[dict[str, Any]] = []

    def run_app(app: web.Application, **kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(web, "run_app", run_app)
    return calls


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "bot.example.org"])
def test_serving_beyond_loopback_without_an_app_id_refuses_to_start(
    served: list[dict[str, Any]], host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", host, "--port", "3978"]) == 2
    assert served == []  # the server never started
    said = capsys.readouterr().err
    assert "Refusing to serve" in said and "APP_ID" in said and "--insecure-local-test" in said


def test_the_host_setting_is_held_to_the_same_rule(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    assert main(["serve"]) == 2
    assert served == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_without_an_app_id_starts_for_the_playground(
    served: list[dict[str, Any]], host: str
) -> None:
    assert main(["serve", "--host", host, "--port", "3978"]) == 0
    assert [call["host"] for call in served] == [host]


def test_the_explicit_test_flag_starts_beyond_loopback_with_a_warning(
    served: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--insecure-local-test"]) == 0
    assert [call["host"] for call in served] == ["0.0.0.0"]
    assert "WITHOUT authentication" in capsys.readouterr().err


def test_with_an_app_id_any_host_is_served(
    served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ID", APP_ID)
    monkeypatch.setenv("APP_PASSWORD", "not-a-real-secret")
    monkeypatch.setenv("APP_TENANTID", "6f1c2a9e-3b7d-4e58-9a21-0c4d5e6f7a80")
    assert main(["serve", "--host", "0.0.0.0"]) == 0
    assert [call["host"] for call in served] == ["0.0.0.0"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("localhost.example.org", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
