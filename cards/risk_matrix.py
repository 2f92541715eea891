"""The panel's current risk matrix, for its coordinator (`matrix`): version, where it comes
from, threshold, and each question with its options and scores."""

from __future__ import annotations

from dataclasses import dataclass

from cards.kit import Card, build, facts, heading, paragraph

MATRIX_TITLE = "Risk matrix"
EXAMPLE_WARNING = (
    "This is the product's EXAMPLE matrix, shipped to show how scoring works: your panel "
    "should replace it with its own agreed matrix (RISK_MATRIX_FILE)."
)


@dataclass(frozen=True)
class MatrixQuestion:
    """One question and its answers, each with its score."""

    item_id: str
    question: str
    options: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class RiskMatrixView:
    panel_name: str
    version: str
    example: bool
    # Whether the panel has a matrix of its own in the file, rather than the default.
    own: bool
    threshold: int
    max_total: int
    questions: tuple[MatrixQuestion, ...]


def _source(view: RiskMatrixView) -> str:
    if view.example:
        return "the shipped example"
    if view.own:
        return "this panel's own matrix"
    return "the default matrix of this deployment"


def render_risk_matrix(view: RiskMatrixView) -> Card:
    """The matrix as a referrer answers it, with what each answer scores."""
    body = [*heading(MATRIX_TITLE, view.panel_name)]
    if view.example:
        body.append(paragraph(EXAMPLE_WARNING, attention=True))
    body += [
        facts(
            [
                ("Version", view.version + (" (example)" if view.example else "")),
                ("Matrix", _source(view)),
                ("Threshold", f"a total above {view.threshold} is high risk"),
                ("Highest total", str(view.max_total)),
                ("Questions", str(len(view.questions))),
            ]
        ),
        paragraph(
            "A referral keeps the version and threshold it was scored with: a new version "
            "changes how new referrals are scored, never an existing one.",
            subtle=True,
        ),
    ]
    for number, question in enumerate(view.questions, start=1):
        body.append(paragraph(f"**{number}. {question.question}**"))
        body.append(facts([(label, str(score)) for label, score in question.options]))
    return build(body, fallback=f"{MATRIX_TITLE}: version {view.version}")
