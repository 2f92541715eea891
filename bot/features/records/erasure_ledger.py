"""Erasure that survives a restore: the ledger file and `python -m bot reapply-erasures`.

Every confirmed erasure is recorded, ids only (bot.domain.erasures.ErasureRequest), twice:
in the database (`erasure_requests`, in the erasure's own transaction) and as a line of a
JSON-lines file outside it (ERASURE_LEDGER; in Azure, on an Azure Files share that the
database's backups do not contain), appended and fsynced before the erasure commits. A
database restore takes the table back with everything else; the file stays. So after any
restore, `python -m bot reapply-erasures` reads the file (and the table), and erases again
every person a request's entries hold once more: each found again from the restored record
itself, then erased exactly as `erase` does, audited as re-applied. Running it again finds
nothing to do.

An erasure whose file line was written but whose transaction then failed is applied by the
next `reapply-erasures` run: the coordinator confirmed it, so erring that way is the lawful
one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.audit import AuditVerb
from bot.domain.common import new_id
from bot.domain.erasures import ErasureRequest, erased_entries, people_back
from bot.kernel import audit

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime
    from pathlib import Path

    from bot.domain.panel import Panel
    from bot.domain.referral import Referral
    from bot.domain.retention import Person
    from bot.kernel.ports import UnitOfWork, UnitOfWorkFactory
    from bot.kernel.router import Request

log = logging.getLogger(__name__)

REAPPLY_ACTOR = "bot:reapply-erasures"
REAPPLY_WHERE = "reapply-erasures"


class ErasureLedger:
    """The JSON-lines file of erasure requests, one per line, appended and never rewritten."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, request: ErasureRequest) -> None:
        """Add one request and make it durable (the file, and the directory for a new file)
        before returning. Several instances may append at once: each line is one write
        under an exclusive lock, after a line break if the last write was cut short."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        line = (request.line() + "\n").encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                # A line cut short by a crash stays alone on its line: this one starts afresh.
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        if new:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                with contextlib.suppress(OSError):  # some file systems refuse a directory fsync
                    os.fsync(directory)
            finally:
                os.close(directory)

    def read(self) -> list[ErasureRequest]:
        """Every request in the file, in the order written (none for no file). A line that
        does not parse (a write cut short by a crash) is logged by its number and skipped."""
        if not self.path.exists():
            return []
        found: list[ErasureRequest] = []
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    found.append(ErasureRequest.from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    log.warning("erasure ledger line %d does not parse: skipped", number)
        return found


# ---- recording an erasure -------------------------------------------------------------------


async def record_erasure(
    uow: UnitOfWork,
    ledger: ErasureLedger | None,
    panel: Panel,
    person: Person,
    reason: str,
    requested_by: str,
    now: datetime,
) -> ErasureRequest:
    """Record the erasure about to run in `uow` (called before it, while the person's entries
    still name them): its row, and its line in the ledger file, durable before the caller
    commits."""
    before = await uow.data_protection.referrals_concerning(panel.id, person)
    request = ErasureRequest(
        id=new_id(),
        panel_id=panel.id,
        requested_at=now,
        requested_by=requested_by,
        reason=reason,
        entries=erased_entries(person, before),
    )
    await uow.data_protection.record_erasure(request)
    if ledger is not None:
        await asyncio.to_thread(ledger.append, request)
    return request


def requested_by(request: Request) -> str:
    """Who asked, as an id: the coordinator's member id."""
    if request.member is not None:
        return request.member.id
    return request.caller.aad_object_id or "unknown"


# ---- applying the ledger again --------------------------------------------------------------


@dataclass(frozen=True)
class ReapplyReport:
    """What one run did: requests whose people were back and were erased again, requests
    already applied, and requests of a panel this database does not hold."""

    reapplied: int = 0
    people: int = 0
    already: int = 0
    unknown_panel: int = 0
    recorded: int = 0  # rows put back into erasure_requests

    def line(self) -> str:
        return (
            f"{self.reapplied} erasure(s) re-applied ({self.people} person(s) erased again), "
            f"{self.already} already applied, {self.unknown_panel} for a panel not in this "
            f"database; {self.recorded} request(s) put back in the database's record."
        )


async def reapply_erasures(
    uow_factory: UnitOfWorkFactory,
    ledger: ErasureLedger | None,
    erase: Callable[[UnitOfWork, Panel, Person, str, audit.Actor, datetime], Awaitable[object]],
    now: datetime,
) -> ReapplyReport:
    """Apply again every erasure of the ledger file (and of the database's table) whose
    entries hold someone again, one transaction per request, oldest first; put back the
    table's row of each. `erase` is the erasure itself (records' erase_from_records)."""
    requests: dict[str, ErasureRequest] = {}
    for request in ledger.read() if ledger is not None else []:
        requests.setdefault(request.id, request)
    async with uow_factory() as uow:
        for request in await uow.data_protection.erasure_requests():
            requests.setdefault(request.id, request)
    report = ReapplyReport()
    for request in sorted(requests.values(), key=lambda r: (r.requested_at, r.id)):
        report = _add(report, await _reapply_one(uow_factory, request, erase, now))
    log.info("reapply-erasures: %s", report.line())
    return report


def _add(one: ReapplyReport, other: ReapplyReport) -> ReapplyReport:
    return ReapplyReport(
        one.reapplied + other.reapplied,
        one.people + other.people,
        one.already + other.already,
        one.unknown_panel + other.unknown_panel,
        one.recorded + other.recorded,
    )


async def _reapply_one(
    uow_factory: UnitOfWorkFactory,
    request: ErasureRequest,
    erase: Callable[[UnitOfWork, Panel, Person, str, audit.Actor, datetime], Awaitable[object]],
    now: datetime,
) -> ReapplyReport:
    async with uow_factory() as uow:
        panel = await uow.panels.get(request.panel_id)
        if panel is None:
            return ReapplyReport(unknown_panel=1)
        referrals: dict[str, Referral] = {}
        for referral_id in request.referral_ids:
            referral = await uow.referrals.get(panel.id, referral_id)
            if referral is not None:
                referrals[referral_id] = referral
        people = people_back(request, referrals)
        recorded = await uow.data_protection.record_erasure(request)
        if people:
            actor = audit.Actor(panel.id, REAPPLY_ACTOR, None, REAPPLY_WHERE)
            reason = f"re-applied after a restore ({request.id}): {request.reason}"
            for person in people:
                await erase(uow, panel, person, reason, actor, now)
            await audit.record(
                uow,
                actor,
                AuditVerb.DELETE,
                "erasure",
                request.id,
                f"erasure of {request.requested_at:%Y-%m-%d} re-applied after a restore: "
                f"{len(people)} person(s) were back",
                at=now,
            )
        await uow.commit()
    return ReapplyReport(
        reapplied=1 if people else 0,
        people=len(people),
        already=0 if people else 1,
        recorded=1 if recorded else 0,
    )
