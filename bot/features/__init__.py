"""Every feature, in the order help lists their commands: the one list the app, help, the
manifest's command lists, the card gallery and the tests derive from."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features.actions import FEATURE as ACTIONS
from bot.features.caseload import FEATURE as CASELOAD
from bot.features.governance import FEATURE as GOVERNANCE
from bot.features.help import FEATURE as HELP
from bot.features.meetings import FEATURE as MEETINGS
from bot.features.records import FEATURE as RECORDS
from bot.features.referrals import FEATURE as REFERRALS

if TYPE_CHECKING:
    from bot.kernel.feature import Feature

FEATURES: tuple[Feature, ...] = (
    HELP,
    GOVERNANCE,
    REFERRALS,
    MEETINGS,
    RECORDS,
    ACTIONS,
    CASELOAD,
)
