"""The subject search's block (`find`): subjects of submitted referrals sharing a whole name
part, an alias part or the normalised postcode, newest first, within one panel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.domain.referral import ReferralStatus, SubjectRole

from . import builders as make

if TYPE_CHECKING:
    from bot.domain.panel import Panel
    from bot.domain.referral import Referral
    from bot.kernel.ports import Storage


def one_subject(panel: Panel, name: str, *, days: float, **fields: object) -> Referral:
    """A submitted referral about one invented person, made `days` after the suite's T0."""
    subject = make.subject(
        name=name,
        aliases=fields.pop("aliases", ()),
        postcode=fields.pop("postcode", "NB9 9ZZ"),
    )
    values: dict[str, object] = {
        "subjects": [subject],
        "created_at": make.at(days=days),
        "submitted_at": make.at(days=days, hours=1),
    }
    return make.referral(panel, **(values | fields))


async def stored(storage: Storage, *referrals: Referral) -> None:
    async with storage.unit_of_work() as uow:
        for referral in referrals:
            await uow.referrals.save(referral)
        await uow.commit()


async def test_subjects_sharing_a_whole_name_part_are_found_newest_first(
    storage: Storage,
) -> None:
    (panel,) = await make.stored_panels(storage)
    older = one_subject(panel, "Jonathan Fairweather", days=1)
    newer = one_subject(panel, "Fairweather, Mary", days=3)
    partial = one_subject(panel, "Fairweathers Ltd Tenant", days=2)  # not a whole part
    stranger = one_subject(panel, "Ann Lee", days=4)
    await stored(storage, older, newer, partial, stranger)
    async with storage.unit_of_work() as uow:
        found = await uow.referrals.search_subjects(
            panel.id, name_parts=["fairweather"], match_postcode=None, limit=10
        )
    assert [(r.id, s.name) for r, s in found] == [
        (newer.id, "Fairweather, Mary"),
        (older.id, "Jonathan Fairweather"),
    ]


async def test_an_alias_or_the_postcode_finds_a_subject(storage: Storage) -> None:
    (panel,) = await make.stored_panels(storage)
    alias = one_subject(panel, "Ann Lee", days=1, aliases=("Annie Quennell",))
    postcode = one_subject(panel, "Ben Ward", days=2, postcode="nb4 7qq")
    neither = one_subject(panel, "Cat Ward", days=3, postcode="NB4 7QR")
    await stored(storage, alias, postcode, neither)
    async with storage.unit_of_work() as uow:
        by_alias = await uow.referrals.search_subjects(
            panel.id, name_parts=["quennell"], match_postcode=None, limit=10
        )
        by_postcode = await uow.referrals.search_subjects(
            panel.id, name_parts=[], match_postcode="NB47QQ", limit=10
        )
        nothing = await uow.referrals.search_subjects(
            panel.id, name_parts=[], match_postcode=None, limit=10
        )
    assert [r.id for r, _ in by_alias] == [alias.id]
    assert [(r.id, s.role) for r, s in by_postcode] == [(postcode.id, SubjectRole.VICTIM)]
    assert nothing == []


async def test_drafts_other_panels_and_the_limit_bound_the_search(storage: Storage) -> None:
    mine, theirs = await make.stored_panels(storage, 2)
    draft = one_subject(
        mine, "Oswin Tredgold", days=1, status=ReferralStatus.DRAFT, submitted_at=None
    )
    first = one_subject(mine, "Oswin Tredgold", days=2)
    second = one_subject(mine, "Tredgold, Oswin", days=3)
    elsewhere = one_subject(theirs, "Oswin Tredgold", days=4)
    await stored(storage, draft, first, second, elsewhere)
    async with storage.unit_of_work() as uow:
        everything = await uow.referrals.search_subjects(
            mine.id, name_parts=["oswin", "tredgold"], match_postcode=None, limit=10
        )
        newest = await uow.referrals.search_subjects(
            mine.id, name_parts=["tredgold"], match_postcode=None, limit=1
        )
        # Only letters are searched for: a part that LIKE would read as a wildcard is not.
        wildcard = await uow.referrals.search_subjects(
            mine.id, name_parts=["%", "_"], match_postcode=None, limit=10
        )
    assert [r.id for r, _ in everything] == [second.id, first.id]
    assert [r.id for r, _ in newest] == [second.id]
    assert wildcard == []
