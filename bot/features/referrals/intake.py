"""Referral intake: `refer` and the steps of the intake card, saved on every click.

A referral starts as a draft. Each click on the intake card first keeps what was typed (as
typed, even when not valid yet) and the step, then checks, moves and saves, all in one unit
of work; the card the click returns replaces the clicked one. Submit checks every step again,
stores the referral's structured fields, and hands it to triage.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.domain.audit import AuditVerb
from bot.domain.delivery import ConversationKind
from bot.domain.errors import Conflict, InvalidInput, NotFound
from bot.domain.intake_rules import (
    STEP_TITLES,
    F,
    IntakeContext,
    Step,
    add_child,
    add_subject,
    child_keys,
    escalation_suggested,
    inputs_from_referral,
    is_on,
    merge_inputs,
    new_draft_inputs,
    next_step,
    previous_step,
    read_referral,
    remove_child,
    remove_subject,
    risk_progress,
    row_field,
    subject_keys,
    validate_all,
    validate_step,
)
from bot.domain.panel import Agency, Member, Panel, Role
from bot.domain.policy import Act
from bot.domain.referral import (
    Referral,
    ReferralCategory,
    ReferralStatus,
    SubjectRole,
)
from bot.features.referrals import triage
from bot.features.referrals.commands import IntakeClick, Refer, step_of
from bot.features.referrals.notices import (
    ReferralEvent,
    referral_summary,
    tell_referrer,
)
from bot.kernel.audit import Actor, record
from bot.kernel.config import RiskBook
from bot.kernel.guard import ANYWHERE, PRIVATE, Access, Target
from bot.kernel.localtime import day_text
from bot.kernel.notify import card_to_member
from bot.kernel.ports import AlreadyExists, UnitOfWork
from bot.kernel.router import CommandSpec, Deps, Handler, Reply, Request, Router, VerbSpec
from cards.intake import (
    CATEGORY_TITLES,
    ROLE_TITLES,
    Choice,
    DraftNoteView,
    IntakeView,
    ReviewStepView,
    RiskQuestion,
    RiskStepView,
    SubmittedView,
    render_discard_question,
    render_discarded,
    render_intake,
    render_saved,
    render_submitted,
)
from cards.verbs import Verb

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from bot.domain.risk import RiskMatrix
    from cards.kit import Card

# Any member of the panel may refer; the panel's own roles all count.
REFER_ROLES = frozenset(Role)
EDITABLE = frozenset({ReferralStatus.DRAFT, ReferralStatus.MORE_INFO_REQUESTED})
IN_PRIVATE = "Referrals are made in private: I've sent you a private message."
NOT_YOURS = "I can't find that referral among yours. Type refer to see your draft."
_MAX_REFERENCE_TRIES = 1000
# How often `refer` starts again when another draft took its reference at the same instant.
_CREATION_TRIES = 3


@dataclass(frozen=True)
class Setting:
    """Who is referring, to which panel, and what the rules need: fixed for one click."""

    panel: Panel
    member: Member
    agencies: Sequence[Agency]
    ctx: IntakeContext
    now: datetime

    @property
    def actor(self) -> Actor:
        """Who the audit trail records: the referrer, in their private chat (where a draft
        is written, wherever `refer` was typed)."""
        return Actor.member(self.member, ConversationKind.PERSONAL.value)


def make_setting(
    panel: Panel, member: Member, agencies: Sequence[Agency], matrix: RiskMatrix, now: datetime
) -> Setting:
    """The setting of one click, with the day in the panel's time zone."""
    active = [a for a in agencies if a.active]
    today = now.astimezone(ZoneInfo(panel.timezone)).date()
    ctx = IntakeContext(today=today, matrix=matrix, agency_ids=frozenset(a.id for a in active))
    return Setting(panel=panel, member=member, agencies=active, ctx=ctx, now=now)


async def _setting(
    uow: UnitOfWork, panel: Panel, member: Member, now: datetime, book: RiskBook
) -> Setting:
    """The click's setting, with the panel's own risk matrix (RISK_MATRIX_FILE)."""
    agencies = await uow.agencies.all(panel.id)
    return make_setting(panel, member, agencies, book.matrix_for(panel), now)


# --- what the card shows -----------------------------------------------------------------------


def _text(inputs: Mapping[str, Any], field_id: str) -> str:
    value = inputs.get(field_id)
    return value.strip() if isinstance(value, str) else ""


def _summary(setting: Setting, inputs: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The referral as typed so far, in a few facts, for the review step."""
    category = next((c for c in ReferralCategory if c.value == _text(inputs, F.CATEGORY)), None)
    subjects = []
    for key in subject_keys(inputs):
        name = _text(inputs, row_field(key, "name")) or "name missing"
        role = next(
            (r for r in SubjectRole if r.value == _text(inputs, row_field(key, "role"))), None
        )
        subjects.append(f"{name} ({ROLE_TITLES[role].lower() if role else 'role missing'})")
    names = {a.id: a.name for a in setting.agencies}
    agencies = [names[a] for a in _text(inputs, F.AGENCIES).split(",") if a in names]
    incidents = _text(inputs, F.INCIDENTS) or "not given"
    if is_on(inputs.get(F.INCIDENTS_RISING)):
        incidents += ", rising"
    if is_on(inputs.get(F.CONSENT_GIVEN)):
        consent = "consented"
    else:
        consent = f"without consent: {_text(inputs, F.CONSENT_REASON) or 'reason missing'}"
    return (
        ("Kind", CATEGORY_TITLES[category] if category else "not chosen"),
        ("Discussed with", _text(inputs, F.DISCUSSED_WITH) or "not given"),
        ("Meeting held", "yes" if is_on(inputs.get(F.MEETING_HELD)) else "no"),
        ("Subjects", "; ".join(subjects) or "none"),
        ("Children", str(len(child_keys(inputs)) or "none")),
        ("Incidents (12 months)", incidents),
        ("Agencies involved", ", ".join(agencies) or "none"),
        ("Consent", consent),
    )


def _risk_view(matrix: RiskMatrix, inputs: Mapping[str, Any]) -> RiskStepView:
    total, answered = risk_progress(inputs, matrix)
    return RiskStepView(
        questions=tuple(
            RiskQuestion(
                item.id,
                item.question,
                tuple(Choice(o.value, f"{o.label} ({o.score})") for o in item.options),
            )
            for item in matrix.items
        ),
        threshold=matrix.threshold,
        max_total=sum(max(o.score for o in item.options) for item in matrix.items),
        total_so_far=total,
        answered=answered,
        example=matrix.example,
    )


def _review_view(setting: Setting, inputs: Mapping[str, Any]) -> ReviewStepView:
    matrix = setting.ctx.matrix
    total, answered = risk_progress(inputs, matrix)
    complete = answered == len(matrix.items)
    return ReviewStepView(
        summary=_summary(setting, inputs),
        risk_total=total if complete else None,
        threshold=matrix.threshold,
        high_risk=complete and matrix.is_high(total),
        escalation_suggested=escalation_suggested(inputs),
    )


def intake_view(
    setting: Setting,
    referral: Referral,
    inputs: Mapping[str, Any],
    step: Step,
    *,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    other_drafts: Sequence[str] = (),
) -> IntakeView:
    """What the intake card shows of `referral` at `step`."""
    sent_back = referral.status is ReferralStatus.MORE_INFO_REQUESTED
    agency = next((a for a in setting.agencies if a.id == referral.referring_agency_id), None)
    return IntakeView(
        referral_id=referral.id,
        reference=referral.reference,
        step=step,
        referrer_name=setting.member.name,
        agency_name=agency.name if agency else None,
        values=inputs,
        errors=dict(errors or {}),
        notice=notice,
        question=referral.more_info_question if sent_back else None,
        subject_keys=tuple(subject_keys(inputs)),
        child_keys=tuple(child_keys(inputs)),
        agencies=tuple(Choice(a.id, a.name) for a in setting.agencies),
        risk=_risk_view(setting.ctx.matrix, inputs) if step is Step.RISK else None,
        review=_review_view(setting, inputs) if step is Step.REVIEW else None,
        other_drafts=tuple(other_drafts),
        sent_back=sent_back,
    )


def draft_note(referral: Referral, step: Step) -> DraftNoteView:
    return DraftNoteView(
        referral_id=referral.id,
        reference=referral.reference,
        step=step,
        sent_back=referral.status is ReferralStatus.MORE_INFO_REQUESTED,
    )


# --- loading and keeping drafts -----------------------------------------------------------


def _inputs_of(referral: Referral) -> dict[str, Any]:
    """What the draft holds as typed; rebuilt from the stored fields if none was kept."""
    if referral.draft_inputs:
        return dict(referral.draft_inputs)
    if referral.subjects:
        return inputs_from_referral(referral)
    return new_draft_inputs()


async def _own(uow: UnitOfWork, panel: Panel, member: Member, referral_id: str) -> Referral:
    referral = await uow.referrals.get(panel.id, referral_id)
    if referral is None or referral.referrer_member_id != member.id:
        raise NotFound(NOT_YOURS)
    return referral


async def _open_drafts(uow: UnitOfWork, panel: Panel, member: Member) -> list[Referral]:
    """The caller's referrals still open to change: those sent back first (the coordinator
    is waiting), then drafts, newest first."""
    mine = [r for r in await uow.referrals.by_referrer(panel.id, member.id) if r.status in EDITABLE]
    mine.sort(key=lambda r: r.created_at, reverse=True)
    mine.sort(key=lambda r: r.status is not ReferralStatus.MORE_INFO_REQUESTED)
    return mine


async def _new_draft(uow: UnitOfWork, setting: Setting) -> Referral:
    """A new draft with the panel's next referral number of the year, e.g. RF-2026-0004.

    Numbers come from the panel's counter (storage: never given twice, never going back); a
    number already taken another way (given by hand, imported) is passed over. Were one taken
    at the same instant anyway, the storage's unique reference refuses the second with
    AlreadyExists, and `refer` tries again.
    """
    panel, year = setting.panel, setting.now.astimezone(UTC).year
    for _ in range(_MAX_REFERENCE_TRIES):
        number = await uow.counters.next(panel.id, "referral", year)
        reference = f"RF-{year}-{number:04d}"
        if await uow.referrals.by_reference(panel.id, reference) is None:
            break
    referral = Referral(
        panel_id=panel.id,
        reference=reference,
        referrer_member_id=setting.member.id,
        referring_agency_id=setting.member.agency_id,
        created_at=setting.now,
        draft_inputs=new_draft_inputs(),
        draft_step=Step.ABOUT.value,
    )
    await uow.referrals.save(referral)
    await record(
        uow,
        setting.actor,
        AuditVerb.CREATE,
        "referral",
        referral.id,
        "draft started",
        at=setting.now,
    )
    return referral


def status_text(referral: Referral, panel: Panel) -> str:
    """Why a referral can no longer be changed on the intake card."""
    ref = referral.reference
    if referral.status is ReferralStatus.SUBMITTED:
        when = day_text(referral.submitted_at, panel) if referral.submitted_at else "earlier"
        return (
            f"{ref} was submitted on {when} and is with the coordinator. I'll tell you here "
            "when they decide."
        )
    if referral.status is ReferralStatus.ACCEPTED:
        return f"{ref} was accepted: it is now one of the panel's cases."
    if referral.status is ReferralStatus.DECLINED:
        return f"{ref} was declined, so it cannot be changed. You can make a new referral."
    return f"{ref} was withdrawn, so it cannot be changed."


# --- the command ---------------------------------------------------------------------------


async def refer(request: Request, deps: Deps, book: RiskBook) -> Reply:
    """`refer`: carry on with the caller's draft or start one; `refer new`; `refer RF-…`.
    The card asks the questions of the panel's matrix in `book`."""
    # The member the guard let through (REFER); then what they asked for.
    panel, member = request.admitted()
    command = Refer.parse(request.args)
    for _ in range(_CREATION_TRIES - 1):
        try:
            return await _refer(command, panel, member, request.where.kind, deps, book)
        except AlreadyExists:
            # Another draft took the same reference at the same instant (another referrer,
            # or this one in a second window): nothing was stored, so look again, when the
            # next number is free. A last loss answers with AlreadyExists' plain message.
            continue
    return await _refer(command, panel, member, request.where.kind, deps, book)


async def _refer(
    command: Refer,
    panel: Panel,
    member: Member,
    where: ConversationKind,
    deps: Deps,
    book: RiskBook,
) -> Reply:
    async with deps.uow() as uow:
        setting = await _setting(uow, panel, member, deps.clock.now(), book)
        drafts = await _open_drafts(uow, panel, member)
        if command.new or (command.reference is None and not drafts):
            referral = await _new_draft(uow, setting)
        elif command.reference is not None:
            found = await uow.referrals.by_reference(panel.id, command.reference)
            if found is None or found.referrer_member_id != member.id:
                raise NotFound(f"You have no referral {command.reference}.")
            if found.status not in EDITABLE:
                return Reply(text=status_text(found, panel))
            referral = found
        else:
            referral = drafts[0]
        others = [d.reference for d in drafts if d.id != referral.id]
        step = step_of(referral.draft_step) or Step.ABOUT
        card = render_intake(
            intake_view(setting, referral, _inputs_of(referral), step, other_drafts=others)
        )
        if where is ConversationKind.PERSONAL:
            await uow.commit()
            return Reply(card=card)
        # Never personal data in a shared chat: the card goes to the caller's private chat.
        await card_to_member(
            uow,
            panel_id=panel.id,
            member_id=member.id,
            card=card,
            key=f"intake:{referral.id}:{setting.now.isoformat()}",
            now=setting.now,
        )
        await uow.commit()
    return Reply(text=IN_PRIVATE)


# --- the card's buttons ------------------------------------------------------------------------


@dataclass
class _Click:
    """One click on the intake card, and what it turns into."""

    verb: Verb
    setting: Setting
    referral: Referral
    inputs: dict[str, Any]
    step: Step
    command: IntakeClick


async def _on_click(verb: Verb, request: Request, deps: Deps, book: RiskBook) -> Reply:
    # The member the guard let through: EDIT_REFERRAL (their own referral, no agreement
    # needed for what they wrote); then what the card sent.
    panel, member = request.admitted()
    command = IntakeClick.parse(request.data)
    try:
        return await _apply(verb, command, deps, panel, member, book)
    except Conflict:
        # Another click on the same draft (a double click, a second window) saved first. A
        # draft keeps the last value typed in each field, so laying this click's inputs over
        # the newer copy is what the person means; a submitted referral is not changed again.
        return await _apply(verb, command, deps, panel, member, book)


async def _apply(
    verb: Verb, command: IntakeClick, deps: Deps, panel: Panel, member: Member, book: RiskBook
) -> Reply:
    async with deps.uow() as uow:
        referral = await _own(uow, panel, member, command.referral_id)
        if referral.status not in EDITABLE:
            return Reply(text=status_text(referral, panel))
        setting = await _setting(uow, panel, member, deps.clock.now(), book)
        click = _Click(
            verb=verb,
            setting=setting,
            referral=referral,
            inputs=merge_inputs(_inputs_of(referral), command.inputs, setting.ctx.matrix),
            step=command.step or step_of(referral.draft_step) or Step.ABOUT,
            command=command,
        )
        card = await _HANDLERS[verb](uow, click)
        await uow.commit()
    return Reply(card=card)


# What each of the intake card's buttons did, as the audit trail says it (plain words, not
# the card's verbs).
CLICK_WORDS: dict[Verb, str] = {
    Verb.REFER_NEXT: "saved, moving on",
    Verb.REFER_BACK: "saved, going back",
    Verb.REFER_SAVE: "saved",
    Verb.REFER_SUBMIT: "checked for submitting",
    Verb.REFER_ADD_SUBJECT: "saved, a subject added",
    Verb.REFER_REMOVE_SUBJECT: "saved, a subject removed",
    Verb.REFER_ADD_CHILD: "saved, a child added",
    Verb.REFER_REMOVE_CHILD: "saved, a child removed",
}


async def _keep(uow: UnitOfWork, click: _Click, step: Step, detail: str) -> None:
    """Store what was typed and where the person is, then save."""
    click.referral.draft_inputs = click.inputs
    click.referral.draft_step = step.value
    await uow.referrals.save(click.referral)
    setting = click.setting
    await record(
        uow, setting.actor, AuditVerb.UPDATE, "referral", click.referral.id, detail, at=setting.now
    )


async def _show(
    uow: UnitOfWork,
    click: _Click,
    step: Step,
    *,
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
) -> Card:
    """Save the draft at `step` and show that step."""
    what = CLICK_WORDS.get(click.verb, "saved")
    await _keep(uow, click, step, f"draft {what} at step {STEP_TITLES[click.step]}")
    view = intake_view(
        click.setting, click.referral, click.inputs, step, errors=errors, notice=notice
    )
    return render_intake(view)


async def _next(uow: UnitOfWork, click: _Click) -> Card:
    errors = validate_step(click.step, click.inputs, click.setting.ctx)
    if errors:
        return await _show(uow, click, click.step, errors=errors)
    return await _show(uow, click, next_step(click.step))


async def _back(uow: UnitOfWork, click: _Click) -> Card:
    return await _show(uow, click, previous_step(click.step))


async def _open(uow: UnitOfWork, click: _Click) -> Card:
    return await _show(uow, click, click.step)


async def _answer(uow: UnitOfWork, click: _Click) -> Card:
    return await _show(uow, click, Step.REVIEW)


async def _save(uow: UnitOfWork, click: _Click) -> Card:
    await _keep(uow, click, click.step, f"draft saved and closed at step {STEP_TITLES[click.step]}")
    return render_saved(draft_note(click.referral, click.step))


async def _change_rows(
    uow: UnitOfWork,
    click: _Click,
    step: Step,
    change: Callable[[Mapping[str, Any]], dict[str, Any]],
) -> Card:
    try:
        click.inputs = change(click.inputs)
    except InvalidInput as err:
        return await _show(uow, click, step, notice=err.message)
    return await _show(uow, click, step)


async def _add_subject(uow: UnitOfWork, click: _Click) -> Card:
    return await _change_rows(uow, click, Step.SUBJECTS, add_subject)


async def _remove_subject(uow: UnitOfWork, click: _Click) -> Card:
    row = click.command.row
    return await _change_rows(uow, click, Step.SUBJECTS, lambda i: remove_subject(i, row))


async def _add_child(uow: UnitOfWork, click: _Click) -> Card:
    return await _change_rows(uow, click, Step.HOUSEHOLD, add_child)


async def _remove_child(uow: UnitOfWork, click: _Click) -> Card:
    row = click.command.row
    return await _change_rows(uow, click, Step.HOUSEHOLD, lambda i: remove_child(i, row))


async def _discard(uow: UnitOfWork, click: _Click) -> Card:
    if not click.command.confirmed:
        await _keep(uow, click, click.step, "draft saved before discarding")
        return render_discard_question(draft_note(click.referral, click.step))
    note = draft_note(click.referral, click.step)
    click.referral.withdraw(click.setting.now)
    await _keep(uow, click, click.step, "withdrawn by the referrer")
    return render_discarded(note)


async def _submit(uow: UnitOfWork, click: _Click) -> Card:
    setting = click.setting
    problems = validate_all(click.inputs, setting.ctx)
    if problems:
        first, errors = next(iter(problems.items()))
        others = [STEP_TITLES[s] for s in problems if s is not first]
        notice = "Correct this step before you submit." + (
            f" Then check: {', '.join(others)}." if others else ""
        )
        return await _show(uow, click, first, errors=errors, notice=notice)
    resubmitted = click.referral.status is ReferralStatus.MORE_INFO_REQUESTED
    # Try the submission on a copy: a refused one must not leave subjects on the draft, where
    # the coordinator's duplicate search would find them.
    trial = copy.deepcopy(click.referral)
    read_referral(click.inputs, setting.ctx).apply_to(trial)
    try:
        trial.submit(setting.now)
    except InvalidInput as err:
        return await _show(uow, click, Step.REVIEW, errors=err.fields, notice=err.message)
    click.referral = trial
    await _keep(uow, click, Step.REVIEW, "resubmitted" if resubmitted else "submitted")
    await triage.referral_submitted(uow, setting.panel, trial, setting.now)
    await tell_referrer(uow, setting.panel, trial, ReferralEvent.RECEIVED, setting.now)
    return render_submitted(
        SubmittedView(
            reference=trial.reference,
            panel_name=setting.panel.name,
            summary=referral_summary(trial),
            resubmitted=resubmitted,
        )
    )


_HANDLERS = {
    Verb.REFER_NEXT: _next,
    Verb.REFER_BACK: _back,
    Verb.REFER_OPEN: _open,
    Verb.REFER_ANSWER: _answer,
    Verb.REFER_SAVE: _save,
    Verb.REFER_ADD_SUBJECT: _add_subject,
    Verb.REFER_REMOVE_SUBJECT: _remove_subject,
    Verb.REFER_ADD_CHILD: _add_child,
    Verb.REFER_REMOVE_CHILD: _remove_child,
    Verb.REFER_DISCARD: _discard,
    Verb.REFER_SUBMIT: _submit,
}


def register(router: Router, book: RiskBook | None = None) -> None:
    """Register `refer` and the intake card's verbs, asking the questions of each panel's
    matrix in `book` (the shipped example for every panel without one)."""
    matrices = book or RiskBook()

    async def refer_command(request: Request, deps: Deps) -> Reply:
        return await refer(request, deps, matrices)

    router.command(
        CommandSpec(
            name="refer",
            summary="Make a referral to the panel, or carry on with your draft.",
            handler=refer_command,
            usage="refer [new | RF-2026-0049]",
            access=Access(Act.REFER, ANYWHERE),
            button="Make a referral",
        )
    )
    drafting = Access(Act.EDIT_REFERRAL, PRIVATE, (Target.REFERRAL,), (Target.REFERRAL,))
    for verb in _HANDLERS:
        router.verb(VerbSpec(verb.value, _verb_handler(verb, matrices), drafting))


def _verb_handler(verb: Verb, book: RiskBook) -> Handler:
    async def handle(request: Request, deps: Deps) -> Reply:
        return await _on_click(verb, request, deps, book)

    return handle
