"""What every person has: `help`, `whoami` and the welcome when the bot is added."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.features.help import basics, gallery
from bot.kernel.feature import Feature, Setup

if TYPE_CHECKING:
    from bot.kernel.router import Router


def register(router: Router, _setup: Setup) -> None:
    """`help` and `whoami`."""
    basics.register(router)


FEATURE = Feature("help", register, gallery.gallery)
