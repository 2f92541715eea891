"""Settings come from the environment and an optional .env, with safe local defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from pathlib import Path


def test_defaults_are_local_mode_on_a_sqlite_file(tmp_path: Path) -> None:
    settings = Settings.from_env({}, dotenv=None)
    assert settings.local_mode
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.timezone == "Europe/London"
    assert (settings.host, settings.port) == ("127.0.0.1", 3978)


def test_the_environment_wins_over_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "DATABASE_URL=sqlite+aiosqlite:///from-dotenv.db\nPANEL_TIMEZONE=Europe/Dublin\n"
    )
    settings = Settings.from_env({"PANEL_TIMEZONE": "Europe/London"}, dotenv=dotenv)
    assert settings.database_url == "sqlite+aiosqlite:///from-dotenv.db"
    assert settings.timezone == "Europe/London"


def test_a_single_tenant_app_needs_its_tenant_and_secret() -> None:
    with pytest.raises(SettingsError, match="APP_TENANTID"):
        Settings.from_env({"APP_ID": "x", "APP_PASSWORD": "y"}, dotenv=None)
    with pytest.raises(SettingsError, match="APP_PASSWORD"):
        Settings.from_env({"APP_ID": "x", "APP_TENANTID": "t"}, dotenv=None)
    settings = Settings.from_env(
        {"APP_ID": "x", "APP_PASSWORD": "y", "APP_TENANTID": "t"}, dotenv=None
    )
    assert not settings.local_mode


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PANEL_TIMEZONE": "Mars/Olympus"}, "PANEL_TIMEZONE"),
        ({"APP_TYPE": "Whatever"}, "APP_TYPE"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
    ],
)
def test_unusable_settings_are_refused_naming_the_variable(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env, dotenv=None)


def test_the_secret_never_appears_in_the_settings_repr() -> None:
    settings = Settings(app_id="x", app_password="hunter2-secret", app_tenant_id="t")
    assert "hunter2-secret" not in repr(settings)
