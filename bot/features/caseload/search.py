"""`find NAME or POSTCODE`: the people referred to the panel, found however their name was
written, within need to know; every search audited.

The storage gives the block (the subjects of submitted referrals sharing a whole part of
the name, a familiar form of it, or the postcode: ReferralRepository.search_subjects), never
the whole panel; the names in it are then scored as a coordinator reads them
(bot.domain.names.likeness: order, titles, accents, familiar forms, slips of the keyboard,
aliases). Each hit is decided by the policy as the record's own view: a case as
VIEW_CASE_DETAIL, a referral not yet a case as VIEW_REFERRAL, so a SPOC finds only what
their agency may already open. What was searched for is itself personal data: the audit
trail says that a search happened, by name or postcode, and what it showed, never the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.matching import NAME_THRESHOLD
from bot.domain.names import FAMILIAR, Likeness, likeness, name_tokens
from bot.domain.panel import Role
from bot.domain.policy import Act, PolicySubject, Relation, decide
from bot.domain.referral import ReferralStatus, normalise_name
from bot.features.caseload.commands import FIND_USAGE, Find
from bot.kernel import access, audit
from bot.kernel.guard import PRIVATE, Access
from bot.kernel.router import CommandSpec, Deps, Reply, Request, Router
from cards.caseload import FindView, Hit, render_find

if TYPE_CHECKING:
    from bot.domain.case import Case
    from bot.domain.panel import Member, Panel
    from bot.domain.referral import Referral, Subject
    from bot.kernel.ports import UnitOfWork

# The most hits a search shows, and the most subjects its block loads.
MAX_HITS = 20
BLOCK_LIMIT = 400
# Name parts shorter than this block nothing (an initial would find half the panel).
MIN_PART = 2

REFERRAL_STATES: dict[ReferralStatus, str] = {
    ReferralStatus.DRAFT: "draft",
    ReferralStatus.SUBMITTED: "waiting for a decision",
    ReferralStatus.MORE_INFO_REQUESTED: "waiting for more information",
    ReferralStatus.ACCEPTED: "accepted",
    ReferralStatus.DECLINED: "declined",
    ReferralStatus.WITHDRAWN: "withdrawn",
}


def block_parts(text: str) -> list[str]:
    """The name parts the storage blocks on: the words of the name as stored
    (normalise_name), as read (name_tokens) and every familiar form of each."""
    parts = set(normalise_name(text).split()) | set(name_tokens(text))
    for part in list(parts):
        parts |= FAMILIAR.get(part, frozenset())
    return sorted(part for part in parts if len(part) >= MIN_PART)


@dataclass(frozen=True)
class Found:
    """A subject found, why and how strongly (before need to know is applied)."""

    referral: Referral
    subject: Subject
    why: str
    strength: float
    exact: bool


def scored(find: Find, referral: Referral, subject: Subject) -> Found | None:
    """The subject as a hit for this search, or None when the name is not alike enough."""
    if find.postcode is not None:
        if subject.match_postcode != find.postcode:
            return None
        return Found(referral, subject, "same postcode", 1.0, exact=True)
    best: Likeness = likeness(find.text, subject.name)
    matched: str | None = None  # the alias that matched best, when not the name
    for alias in subject.aliases:
        alike = likeness(find.text, alias)
        if alike.score > best.score:
            best, matched = alike, alias
    if best.score < NAME_THRESHOLD:
        return None
    why = f"alias {matched}: {best.reason}" if matched else f"name: {best.reason}"
    return Found(referral, subject, why, best.score, exact=best.exact)


def strongest_first(found: list[Found]) -> list[Found]:
    return sorted(
        found,
        key=lambda f: (not f.exact, -f.strength, -f.referral.created_at.timestamp(), f.subject.id),
    )


@dataclass
class NeedToKnow:
    """Whether the caller may see each record found, decided once per record."""

    uow: UnitOfWork
    panel: Panel
    member: Member
    subject: PolicySubject
    cases: dict[str, Case | None]
    decided: dict[str, bool]

    async def case_of(self, referral: Referral) -> Case | None:
        if referral.case_id is None:
            return None
        if referral.case_id not in self.cases:
            self.cases[referral.case_id] = await self.uow.cases.get(self.panel.id, referral.case_id)
        return self.cases[referral.case_id]

    async def may_see(self, referral: Referral) -> bool:
        """The policy's decision on the record found: its case, or the referral itself."""
        if referral.id not in self.decided:
            case = await self.case_of(referral)
            act = Act.VIEW_CASE_DETAIL if case is not None else Act.VIEW_REFERRAL
            # Whoever may see it standing in no relation at all may see every one (the
            # coordinator, the chair): their relations need not be looked up.
            allowed = decide(self.subject, act, Relation.NONE).allowed
            if not allowed and case is not None:
                relations = await access.relations_to_case(self.uow, self.panel, self.member, case)
                allowed = decide(self.subject, act, relations).allowed
            elif not allowed:
                relations = await access.relations_to_referral(
                    self.uow, self.panel, self.member, referral
                )
                allowed = decide(self.subject, act, relations).allowed
            self.decided[referral.id] = allowed
        return self.decided[referral.id]


def opens(referral: Referral, case: Case | None, triages: bool) -> str | None:
    """The command a hit's Open button runs: the case; a referral's triage card for the
    coordinator (`referrals RF-…`, which only she may open); otherwise none."""
    if case is not None:
        return f"case {case.reference}"
    return f"referrals {referral.reference}" if triages else None


def _record_words(referral: Referral, case: Case | None) -> tuple[str, str]:
    """(reference, what the record is) of a hit: the case when there is one."""
    if case is not None:
        return case.reference, f"case, {case.status.value}"
    return referral.reference, f"referral, {REFERRAL_STATES[referral.status]}"


async def search(request: Request, deps: Deps) -> Reply:
    """`find John Smith` / `find RV2 7LD`: the people referred, strongest match first, at most
    20, within need to know; the search audited (by what, how many hits, which records)."""
    panel, member = request.admitted()
    find = Find.typed(request.args)
    triages = Role.COORDINATOR in member.roles
    now = deps.clock.now()
    async with deps.uow() as uow:
        block = await uow.referrals.search_subjects(
            panel.id,
            name_parts=[] if find.postcode else block_parts(find.text),
            match_postcode=find.postcode,
            limit=BLOCK_LIMIT,
        )
        candidates = [
            hit for hit in (scored(find, referral, subject) for referral, subject in block) if hit
        ]
        policy = NeedToKnow(
            uow, panel, member, await access.subject_for(uow, panel, member), {}, {}
        )
        shown: list[tuple[Found, Case | None]] = []
        more = False
        for hit in strongest_first(candidates):
            if not await policy.may_see(hit.referral):
                continue
            if len(shown) == MAX_HITS:
                more = True
                break
            shown.append((hit, await policy.case_of(hit.referral)))
        hits = [
            Hit(
                reference=_record_words(found.referral, case)[0],
                record=_record_words(found.referral, case)[1],
                role=found.subject.role.value,
                name=found.subject.name,
                why=found.why,
                strength=round(found.strength * 100),
                opens=opens(found.referral, case, triages),
            )
            for found, case in shown
        ]
        references = sorted({hit.reference for hit in hits})
        said = f"searched the people referred, by {find.by}: {len(hits)} found"
        if references:
            said += f" ({', '.join(references)})"
        await audit.record(uow, request, AuditVerb.VIEW, "panel", panel.id, said, at=now)
        for found, case in shown:
            entity, entity_id = ("case", case.id) if case else ("referral", found.referral.id)
            await audit.record(
                uow, request, AuditVerb.VIEW, entity, entity_id, "found by a search", at=now
            )
        await uow.commit()
    limited = not ({Role.COORDINATOR, Role.CHAIR} & member.roles)
    return Reply(
        card=render_find(
            FindView(panel.name, find.by, hits, more=more, limited=limited),
        )
    )


def register(router: Router) -> None:
    """Register `find`."""
    router.command(
        CommandSpec(
            name="find",
            summary="Find a person referred to the panel by name (however written) or "
            "postcode, in the cases and referrals you may see. Every search is audited.",
            handler=search,
            usage=FIND_USAGE,
            access=Access(Act.SEARCH_SUBJECTS, PRIVATE),
            # The personal menu holds Teams' twelve already (tests/test_manifest_menu.py).
            in_manifest=False,
        )
    )
