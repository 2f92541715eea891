"""`matrix`: the coordinator sees the panel's current risk matrix, the one the intake card
asks (RISK_MATRIX_FILE, else the shipped example): version, threshold, questions, scores.

It lives with referrals because referrals are what the matrix scores, and this feature is
the one configured with the panels' matrices (bot.kernel.config.RiskBook).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.policy import Act
from bot.kernel.config import RiskBook
from bot.kernel.guard import PRIVATE, Access
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router
from cards.risk_matrix import MatrixQuestion, RiskMatrixView, render_risk_matrix

if TYPE_CHECKING:
    from bot.domain.panel import Panel


def matrix_view(panel: Panel, book: RiskBook) -> RiskMatrixView:
    """The panel's current matrix as the card shows it."""
    matrix = book.matrix_for(panel)
    return RiskMatrixView(
        panel_name=panel.name,
        version=matrix.version,
        example=matrix.example,
        own=panel.team_id in book.by_team,
        threshold=matrix.threshold,
        max_total=matrix.max_total,
        questions=tuple(
            MatrixQuestion(item.id, item.question, tuple((o.label, o.score) for o in item.options))
            for item in matrix.items
        ),
    )


def register(router: Router, book: RiskBook | None = None) -> None:
    """Register `matrix` (coordinators, in private; not on the Teams menu, which is full)."""
    matrices = book or RiskBook()

    async def show(request: Request, _deps: Deps) -> Reply:
        panel, _member = request.admitted()
        return Reply(card=render_risk_matrix(matrix_view(panel, matrices)))

    router.command(
        CommandSpec(
            name="matrix",
            summary="Coordinators: the panel's risk matrix, its version, threshold and scores.",
            handler=show,
            usage="matrix",
            access=Access(Act.VIEW_RISK_MATRIX, PRIVATE),
            in_manifest=False,
        )
    )
