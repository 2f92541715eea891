"""Each panel's own risk matrix (RISK_MATRIX_FILE): chosen by the panel's Teams team id, else
the file's default, else the shipped example; a file that cannot be used stops the bot at
start with one line naming it and the problem; the intake card asks the panel's questions
and keeps the version and threshold it scored with, so a referral keeps its level when the
file moves to a new version; `matrix` shows the coordinator the panel's matrix and is
refused to a SPOC. Every matrix, panel and person here is invented."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.app import build_router
from bot.demo import DEMO_TEAM
from bot.domain.errors import NotAllowed
from bot.domain.intake_rules import F, risk_field
from bot.domain.panel import Panel
from bot.domain.referral import ReferralStatus, assessed_risk_level
from bot.domain.risk import RiskLevel
from bot.kernel.config import (
    RiskBook,
    RiskMatrixError,
    example_matrix,
    load_risk_book,
)
from bot.settings import Settings, SettingsError
from cards.kit import card_text
from cards.verbs import Verb
from tests.support import cards
from tests.support.world import NOW, World, demo_world

if TYPE_CHECKING:
    from bot.domain.referral import Referral

ROOT = Path(__file__).resolve().parents[1]
OTHER_TEAM = "19:northbank-cmarac@thread.tacv2"


def matrix(version: str, threshold: int, *questions: str) -> dict[str, Any]:
    """A matrix as a panel writes it: each question answered none (0), some (1) or
    serious (3)."""
    return {
        "version": version,
        "threshold": threshold,
        "items": [
            {
                "id": f"q{number}",
                "question": question,
                "options": [
                    {"value": "none", "label": "No / not known", "score": 0},
                    {"value": "some", "label": "Some concern", "score": 1},
                    {"value": "serious", "label": "Serious concern", "score": 3},
                ],
            }
            for number, question in enumerate(questions, start=1)
        ],
    }


QUESTIONS = (
    "Has the victim been harmed or threatened at home?",
    "Is the behaviour repeated or getting worse?",
    "Is the victim isolated or unwell?",
)
RIVERSIDE_1 = matrix("riverside-2027.1", 4, *QUESTIONS)
RIVERSIDE_2_HIGHER = matrix("riverside-2027.2", 8, *QUESTIONS)
RIVERSIDE_2_LOWER = matrix("riverside-2027.2", 1, *QUESTIONS)
NORTHBANK = matrix("northbank-1", 2, "Is anyone in danger tonight?")
DEFAULT = matrix("borough-default-3", 5, "Is there a risk of harm?", "Is it escalating?")


def write(tmp_path: Path, data: Any, name: str = "matrices.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def panel(team_id: str) -> Panel:
    return Panel(name="Invented panel", team_id=team_id, tenant_id="tenant", created_at=NOW)


# --- choosing a panel's matrix ------------------------------------------------------------


def test_each_panel_gets_its_teams_matrix_else_the_default(tmp_path: Path) -> None:
    book = load_risk_book(
        write(
            tmp_path,
            {"default": DEFAULT, "teams": {DEMO_TEAM: RIVERSIDE_1, OTHER_TEAM: NORTHBANK}},
        )
    )
    assert book.matrix_for(panel(DEMO_TEAM)).version == "riverside-2027.1"
    assert book.matrix_for(panel(OTHER_TEAM)).version == "northbank-1"
    assert book.matrix_for(panel("19:elsewhere")).version == "borough-default-3"
    assert not book.matrix_for(panel(DEMO_TEAM)).example


def test_teams_without_a_default_leave_the_example_to_the_others(tmp_path: Path) -> None:
    book = load_risk_book(write(tmp_path, {"teams": {OTHER_TEAM: NORTHBANK}}))
    assert book.matrix_for(panel(OTHER_TEAM)).version == "northbank-1"
    assert book.matrix_for(panel(DEMO_TEAM)) == example_matrix()
    assert book.matrix_for(panel(DEMO_TEAM)).example


def test_one_matrix_serves_every_panel_and_no_file_means_the_example(tmp_path: Path) -> None:
    single = load_risk_book(write(tmp_path, RIVERSIDE_1))
    assert single.matrix_for(panel(OTHER_TEAM)).version == "riverside-2027.1"
    assert load_risk_book(None).matrix_for(panel(OTHER_TEAM)) == example_matrix()
    assert RiskBook().matrix_for(panel(DEMO_TEAM)) == example_matrix()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("{not json", "Cannot read the risk matrix file"),
        ([RIVERSIDE_1], "is a JSON object"),
        ({k: v for k, v in RIVERSIDE_1.items() if k != "threshold"}, "has no 'threshold'"),
        ({**RIVERSIDE_1, "threshold": "4"}, "threshold is a whole number"),
        ({**RIVERSIDE_1, "version": "x" * 33}, "version is 1 to 32 characters"),
        ({**RIVERSIDE_1, "items": []}, "needs at least one item"),
        (
            {**RIVERSIDE_1, "items": RIVERSIDE_1["items"] + RIVERSIDE_1["items"][:1]},
            "distinct ids: q1",
        ),
        (
            {**RIVERSIDE_1, "items": [{**RIVERSIDE_1["items"][0], "options": [{"value": "a"}]}]},
            "Each option of risk item q1 has a value, label and score",
        ),
        ({"teams": {OTHER_TEAM: {"version": "n"}}}, f"Team {OTHER_TEAM}: The risk matrix has no"),
        ({"default": RIVERSIDE_1, "panels": {}}, "Unknown risk matrix configuration key: panels"),
        ({"teams": [OTHER_TEAM]}, "teams maps a Teams team id to its matrix"),
        (
            {
                "default": RIVERSIDE_1,
                "teams": {OTHER_TEAM: RIVERSIDE_2_HIGHER | {"version": "riverside-2027.1"}},
            },
            "Version riverside-2027.1 names two different matrices",
        ),
        (
            {**RIVERSIDE_1, "version": example_matrix().version},
            f"Version {example_matrix().version} names two different matrices",
        ),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_naming_it_and_the_problem(
    tmp_path: Path, data: Any, says: str
) -> None:
    path = write(tmp_path, data)
    with pytest.raises(RiskMatrixError) as refused:
        load_risk_book(path)
    assert str(path) in refused.value.message
    assert says in refused.value.message


def test_the_settings_refuse_a_bad_file_and_take_a_good_one(tmp_path: Path) -> None:
    bad = write(tmp_path, {**RIVERSIDE_1, "items": []}, "bad.json")
    with pytest.raises(SettingsError, match=r"^RISK_MATRIX_FILE: The risk matrix file .*bad\.json"):
        Settings.from_env({"RISK_MATRIX_FILE": str(bad)}, dotenv=None)
    with pytest.raises(SettingsError, match="Cannot read the risk matrix file"):
        Settings.from_env({"RISK_MATRIX_FILE": str(tmp_path / "missing.json")}, dotenv=None)
    good = write(tmp_path, RIVERSIDE_1, "good.json")
    assert Settings.from_env({"RISK_MATRIX_FILE": str(good)}, dotenv=None).risk_matrix_file == good
    assert Settings.from_env({}, dotenv=None).risk_matrix_file is None


def test_the_bot_does_not_start_on_a_bad_file_and_says_why_in_one_line(tmp_path: Path) -> None:
    bad = write(tmp_path, {"default": {**RIVERSIDE_1, "threshold": 4.5}}, "bad.json")
    env = {"PATH": "/usr/bin:/bin", "RISK_MATRIX_FILE": str(bad), "DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        cwd=tmp_path,  # no .env of the repository
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"Configuration error: RISK_MATRIX_FILE: The risk matrix file {bad}: "
        "default: The risk matrix's threshold is a whole number."
    ]


# --- intake with the panel's own questions, and a referral's level kept --------------------


def world_with(world: World, path: Path | None) -> World:
    """The same panel and storage, served by a router built from RISK_MATRIX_FILE=path."""
    return World(
        world.storage, world.clock, world.panel, build_router(Settings(risk_matrix_file=path))
    )


@pytest.fixture
async def plain() -> World:
    return await demo_world()


ABOUT = {
    F.CATEGORY: "asb_vulnerable",
    F.DISCUSSED_WITH: "My team leader",
    F.TRIED_ALREADY: "Two warning letters; a mediation offer refused.",
    F.MEETING_HELD: "false",
}
SUBJECTS = {
    "s1.role": "victim",
    "s1.name": "Ottoline Parfitt",
    "s1.aliases": "",
    "s1.dob": "1949-03-17",
    "s1.address": "3 Larch Row, Riverside",
    "s1.postcode": "rv2 7lp",
    "s1.phone": "020 7946 0412",
    "s1.safe_to_call": "true",
    "s1.vulnerabilities": "Uses a wheelchair",
    "s1.language": "English",
    "s1.interpreter": "false",
}
HOUSEHOLD = {F.RELATIONSHIP: "Neighbours", F.INCIDENTS: "3", F.INCIDENTS_RISING: "true"}
CONSENT = {F.CONSENT_AWARE: "true", F.CONSENT_GIVEN: "true", F.CONSENT_REASON: ""}
REVIEW = {F.ESCALATION: "true", F.JUDGEMENT: "false", F.JUSTIFICATION: ""}


async def refer(world: World, answers: dict[str, str]) -> tuple[dict[str, Any], Referral]:
    """Aisha refers through every step, answering the risk step with `answers`; the risk
    step's card as it was shown, and the submitted referral."""
    card = (await world.command("Aisha", "refer new")).card
    assert card is not None
    referral_id = str(cards.button(card, "Next")["data"]["referral_id"])
    risk_card: dict[str, Any] = {}
    steps = [("about", ABOUT), ("subjects", SUBJECTS), ("household", HOUSEHOLD)]
    steps += [("consent", CONSENT), ("risk", answers)]
    for step, typed in steps:
        reply = await world.click(
            "Aisha", Verb.REFER_NEXT, {"referral_id": referral_id, "step": step, **typed}
        )
        assert reply.card is not None, reply.text
        assert cards.element(reply.card, "intake-problems") is None, card_text(reply.card)
        if step == "consent":
            risk_card = reply.card
    reply = await world.click(
        "Aisha", Verb.REFER_SUBMIT, {"referral_id": referral_id, "step": "review", **REVIEW}
    )
    assert reply.card is not None and "submitted" in card_text(reply.card), reply
    async with world.storage.unit_of_work() as uow:
        stored = await uow.referrals.get(world.panel.id, referral_id)
    assert stored is not None and stored.status is ReferralStatus.SUBMITTED
    return risk_card, stored


def answers(*values: str) -> dict[str, str]:
    return {risk_field(f"q{n}"): value for n, value in enumerate(values, start=1)}


async def test_the_intake_card_asks_the_panels_own_questions_and_keeps_its_version(
    plain: World, tmp_path: Path
) -> None:
    path = write(tmp_path, {"teams": {plain.panel.team_id: RIVERSIDE_1}})
    world = world_with(plain, path)
    risk_card, stored = await refer(world, answers("serious", "some", "some"))
    shown = card_text(risk_card)
    for question in QUESTIONS:
        assert question in shown
    assert example_matrix().items[0].question not in shown
    assert "EXAMPLE" not in shown
    assert "Above 4 is high risk" in shown
    assert (stored.risk_matrix_version, stored.risk_threshold, stored.risk_total) == (
        "riverside-2027.1",
        4,
        5,
    )
    assert stored.risk_answers == {"q1": "serious", "q2": "some", "q3": "some"}
    assert assessed_risk_level(stored) is RiskLevel.HIGH
    # Another panel of the same deployment is asked the example, labelled as such.
    other = world_with(plain, write(tmp_path, {"teams": {OTHER_TEAM: NORTHBANK}}, "other.json"))
    example_card, example_referral = await refer(
        other, {risk_field(item.id): "none" for item in example_matrix().items}
    )
    assert "EXAMPLE matrix" in card_text(example_card)
    assert example_referral.risk_matrix_version == example_matrix().version
    assert example_referral.risk_threshold == example_matrix().threshold


async def triage_text(world: World, reference: str) -> str:
    """The risk and criteria lines of the referral's triage card, as the coordinator sees
    them (the rest, matches included, changes as referrals come in)."""
    reply = await world.command("Priya", f"referrals {reference}")
    assert reply.card is not None, reply.text
    lines = card_text(reply.card).splitlines()
    risk, criteria = lines.index("Risk"), lines.index("Criteria met")
    return "\n".join(lines[risk : risk + 2] + lines[criteria : criteria + 2])


async def test_an_old_referral_keeps_its_level_when_the_file_moves_to_a_new_version(
    plain: World, tmp_path: Path
) -> None:
    first = world_with(plain, write(tmp_path, RIVERSIDE_1, "v1.json"))
    _, high = await refer(first, answers("serious", "some", "some"))  # 5, above 4
    _, medium = await refer(first, answers("some", "some", "some"))  # 3, eligible by escalation
    before = {r.reference: await triage_text(first, r.reference) for r in (high, medium)}
    assert "Risk\nHigh — 5 (above 4 is high" in before[high.reference]
    assert "Risk\nMedium — 3 (above 4 is high" in before[medium.reference]
    for version_2 in (RIVERSIDE_2_HIGHER, RIVERSIDE_2_LOWER):
        # The file now holds the new version only: the old one is in no file.
        later = world_with(plain, write(tmp_path, version_2, f"v2-{version_2['threshold']}.json"))
        for referral in (high, medium):
            text = await triage_text(later, referral.reference)
            assert text == before[referral.reference]
            assert "above 4 is high; matrix riverside-2027.1" in text
        async with later.storage.unit_of_work() as uow:
            for referral, level in ((high, RiskLevel.HIGH), (medium, RiskLevel.MEDIUM)):
                stored = await uow.referrals.get(plain.panel.id, referral.id)
                assert stored is not None
                assert assessed_risk_level(stored) is level
        # A new referral is scored with the new version.
        _, new = await refer(later, answers("some", "some", "some"))
        assert (new.risk_matrix_version, new.risk_threshold) == (
            "riverside-2027.2",
            version_2["threshold"],
        )


async def test_a_draft_begun_under_the_old_version_is_sent_under_the_new_one(
    plain: World, tmp_path: Path
) -> None:
    first = world_with(plain, write(tmp_path, RIVERSIDE_1, "v1.json"))
    card = (await first.command("Aisha", "refer new")).card
    assert card is not None
    referral_id = str(cards.button(card, "Next")["data"]["referral_id"])
    steps = [("about", ABOUT), ("subjects", SUBJECTS), ("household", HOUSEHOLD)]
    steps += [("consent", CONSENT), ("risk", answers("serious", "serious", "serious"))]
    for step, typed in steps:
        await first.click(
            "Aisha", Verb.REFER_NEXT, {"referral_id": referral_id, "step": step, **typed}
        )
    # The file now holds another matrix: two questions, q3 gone, a threshold of 5.
    later = world_with(plain, write(tmp_path, DEFAULT, "v2.json"))
    reply = await later.click(
        "Aisha", Verb.REFER_OPEN, {"referral_id": referral_id, "step": "risk"}
    )
    assert reply.card is not None
    shown = card_text(reply.card)
    assert "Is there a risk of harm?" in shown and QUESTIONS[2] not in shown
    reply = await later.click(
        "Aisha", Verb.REFER_SUBMIT, {"referral_id": referral_id, "step": "review", **REVIEW}
    )
    assert reply.card is not None and "submitted" in card_text(reply.card)
    async with later.storage.unit_of_work() as uow:
        stored = await uow.referrals.get(plain.panel.id, referral_id)
    assert stored is not None
    assert stored.risk_answers == {"q1": "serious", "q2": "serious"}
    assert (stored.risk_matrix_version, stored.risk_threshold, stored.risk_total) == (
        "borough-default-3",
        5,
        6,
    )
    assert assessed_risk_level(stored) is RiskLevel.HIGH


# --- `matrix` --------------------------------------------------------------------------------


async def test_matrix_shows_the_coordinator_the_panels_matrix(plain: World, tmp_path: Path) -> None:
    own = world_with(
        plain, write(tmp_path, {"default": DEFAULT, "teams": {DEMO_TEAM: RIVERSIDE_1}})
    )
    reply = await own.command("Priya", "matrix")
    assert reply.card is not None, reply.text
    text = card_text(reply.card)
    assert "Risk matrix" in text
    assert "riverside-2027.1" in text and "borough-default-3" not in text
    assert "this panel's own matrix" in text
    assert "a total above 4 is high risk" in text
    for question in QUESTIONS:
        assert question in text
    assert "Serious concern" in text and "EXAMPLE" not in text
    example = await plain.command("Priya", "matrix")
    assert example.card is not None
    shown = card_text(example.card)
    assert "EXAMPLE matrix" in shown
    assert f"{example_matrix().version} (example)" in shown
    assert f"a total above {example_matrix().threshold} is high risk" in shown
    assert example_matrix().items[-1].question in shown


async def test_help_offers_matrix_to_the_coordinator_alone(plain: World) -> None:
    for who, offered in (("Priya", True), ("Gemma", False), ("Tom", False)):
        reply = await plain.command(who, "help")
        assert reply.card is not None
        assert ("**matrix**" in card_text(reply.card)) is offered, who


async def test_matrix_is_refused_to_a_spoc_and_the_chair(plain: World) -> None:
    for who in ("Gemma", "Tom"):
        with pytest.raises(NotAllowed) as refused:
            await plain.command(who, "matrix")
        assert refused.value.message == (
            "Only the panel's coordinators can see the panel's risk matrix."
        )
