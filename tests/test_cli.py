"""`python -m bot` as an operator runs it: migrate, seed-demo, manifest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from jsonschema import Draft4Validator

from manifest import schema_path

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "0b7c9f2e-5d4a-4c1b-9e8f-1a2b3c4d5e6f"


def run_bot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_then_seed_demo_twice_creates_the_demo_panel_once(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sub' / 'bot.sqlite3'}"}
    migrated = run_bot("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    first = run_bot("seed-demo", env=env)
    second = run_bot("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "Demo panel created: 9 agencies, 5 members" in first.stdout
    assert "already present: nothing changed" in second.stdout


def test_manifest_writes_a_package_whose_manifest_passes_the_official_schema(
    tmp_path: Path,
) -> None:
    out = tmp_path / "package.zip"
    result = run_bot(
        "manifest", "--app-id", APP_ID, "--out", str(out), "--domain", "bot.example.org"
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    errors = list(Draft4Validator(schema).iter_errors(manifest))
    assert errors == []
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.example.org"]
    personal = next(c for c in manifest["bots"][0]["commandLists"] if c["scopes"] == ["personal"])
    assert [c["title"] for c in personal["commands"]][:2] == ["help", "whoami"]


def test_manifest_without_an_app_id_explains_what_to_give() -> None:
    result = run_bot("manifest")
    assert result.returncode != 0
    assert "Give the Azure Bot's app id" in result.stderr


def test_manifest_with_an_app_id_that_is_no_guid_is_refused_plainly(tmp_path: Path) -> None:
    result = run_bot("manifest", "--app-id", "my-bot", "--out", str(tmp_path / "x.zip"))
    assert result.returncode != 0
    assert "Cannot build the package" in result.stderr
    assert not (tmp_path / "x.zip").exists()


def test_a_bad_setting_stops_the_cli_with_the_variable_named() -> None:
    result = run_bot("migrate", env={"PANEL_TIMEZONE": "Mars/Olympus"})
    assert result.returncode != 0
    assert "Configuration error: PANEL_TIMEZONE" in result.stderr
