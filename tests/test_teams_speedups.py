"""The msrest speed-up for botbuilder's connector clients: installed by create_app, not by
importing anything, and with the same retry status list as msrest's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from msrest.universal_http.requests import ClientRetryPolicy

from bot.app import create_app
from bot.settings import Settings
from storage import MemoryStorage

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
MSREST_SAFE_CODES = [i for i in range(500) if i != 408] + [501, 505]


def test_create_app_installs_the_speed_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ClientRetryPolicy, "safe_codes", list(MSREST_SAFE_CODES))

    create_app(Settings(), storage=MemoryStorage(), deliver_in_background=False)

    assert isinstance(ClientRetryPolicy.safe_codes, frozenset)
    assert ClientRetryPolicy.safe_codes == frozenset(MSREST_SAFE_CODES)


def test_the_speed_up_leaves_the_retry_status_list_as_msrest_makes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ClientRetryPolicy, "safe_codes", list(MSREST_SAFE_CODES))
    before = ClientRetryPolicy().policy.status_forcelist

    create_app(Settings(), storage=MemoryStorage(), deliver_in_background=False)

    assert ClientRetryPolicy().policy.status_forcelist == before
    assert 408 in before and 500 in before and 503 in before and 404 not in before


def test_importing_the_app_and_the_teams_layer_leaves_msrest_alone() -> None:
    probe = (
        "import bot.app, bot.teams.web, bot.teams.outbox, bot.bench.fanout\n"
        "from msrest.universal_http.requests import ClientRetryPolicy\n"
        "print(type(ClientRetryPolicy.safe_codes).__name__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "list"
