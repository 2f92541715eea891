"""Signed download links: capabilities that are per purpose, short-lived, bound to a member.

Teams cards cannot carry files, so the calendar, the minutes, a subject access export and
the statistics are downloaded through links whose `token` is signed here, with
itsdangerous (rather than our own HMAC code):

- **per purpose**: each purpose signs with its own salt, so a calendar token never opens the
  minutes, whatever ids it names;
- **bound**: the payload names what the link opens (the subject: panel, meeting, export,
  quarter) and the member it was issued to; the download handler re-checks that member
  against the database (still active, still allowed) before answering;
- **short-lived**: the signature carries the time it was issued (from the app's clock) and
  each purpose has its own lifetime (`LIFETIMES`), checked at download: shortening a
  lifetime takes effect on links already out;
- **rotatable**: several secrets; the first signs, every one verifies (LINK_SECRETS).

Anything wrong with a token (empty, huge, not ASCII, truncated, tampered, another purpose's,
expired, issued in the future, signed with a secret no longer listed) reads as no token:
the handlers answer 404, the same as for an unknown record. Tokens are never logged.
This module moves to the kernel with the rest of what every feature stands on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class Purpose(StrEnum):
    """What a link is for; each purpose signs with a salt of its own."""

    CALENDAR = "calendar"
    MINUTES = "minutes"
    SAR = "sar"
    STATS = "stats"


# How long a link works after it is issued. The calendar is subscribed to by calendar apps,
# so it lives longest and is re-issued whenever the member asks (`schedule ics`); a subject
# access export holds everything about a person and the coordinator has just asked for it.
LIFETIMES: Mapping[Purpose, timedelta] = {
    Purpose.CALENDAR: timedelta(days=90),
    Purpose.MINUTES: timedelta(days=7),
    Purpose.SAR: timedelta(hours=24),
    Purpose.STATS: timedelta(days=7),
}
# A genuine token is about 200 characters; anything much longer is refused unread.
MAX_TOKEN_LENGTH = 512
SALT_PREFIX = "community-marac.link."
# The query parameter a link carries its token in: `Links.url` writes it, and a download's
# handler reads it back with `token_of`.
TOKEN_PARAM = "token"  # noqa: S105 (a query parameter's name, not a secret)


def token_of(query: Mapping[str, str]) -> str:
    """The token a download link carried in its query ("" when it carried none)."""
    return query.get(TOKEN_PARAM, "")


class _ClockSigner(TimestampSigner):
    """A timestamp signer that takes "now" from the app's clock instead of time.time()."""

    def __init__(self, *args: Any, now: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return self._now


def _canonical(token: str) -> bool:
    """Whether each part of the token is base64 as itsdangerous writes it. The last
    character of a part carries spare bits that decoding ignores, so without this check
    several strings would open the same link: one link, one token."""
    parts = token.removeprefix(".").split(".")  # a leading dot marks a compressed payload
    try:
        return all(base64_encode(base64_decode(part)) == part.encode("ascii") for part in parts)
    except BadData:
        return False


@dataclass(frozen=True)
class Links:
    """The app's download links: where it is reached and the secrets that sign them.

    `secrets` are newest first: the first signs, all verify. Without a public address or a
    secret there are no links (`url` answers None) and no token verifies.
    """

    public_url: str = ""
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, public_url: str, secrets: Sequence[str]) -> Links:
        """Links from settings' values (blank secrets dropped)."""
        return cls(public_url.rstrip("/"), tuple(s for s in secrets if s))

    @property
    def configured(self) -> bool:
        return bool(self.public_url and self.secrets)

    def _serializer(self, purpose: Purpose, now: datetime) -> URLSafeTimedSerializer:
        # itsdangerous signs with the last key and verifies with all: newest last.
        return URLSafeTimedSerializer(
            list(reversed(self.secrets)),
            salt=SALT_PREFIX + purpose.value,
            signer=_ClockSigner,
            signer_kwargs={
                "now": int(now.timestamp()),
                "key_derivation": "hmac",
                "digest_method": hashlib.sha256,
            },
        )

    def expires(self, purpose: Purpose, now: datetime) -> datetime:
        """When a link issued `now` stops working."""
        return now + LIFETIMES[purpose]

    def token(self, purpose: Purpose, subject: Sequence[str], member_id: str, now: datetime) -> str:
        """A token for `member_id` to open `subject` for `purpose`, issued `now`."""
        if not self.secrets:
            raise ValueError("no secret to sign download links with")
        return self._serializer(purpose, now).dumps([list(subject), member_id])

    def holder(
        self, purpose: Purpose, subject: Sequence[str], token: str, now: datetime
    ) -> str | None:
        """The member a genuine, unexpired token for this purpose and subject was issued to;
        None for anything else."""
        if not self.secrets or not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        if not token.isascii() or not _canonical(token):
            return None
        max_age = int(LIFETIMES[purpose].total_seconds())
        try:
            payload = self._serializer(purpose, now).loads(token, max_age=max_age)
        except BadData:
            return None
        match payload:
            case [list() as signed_subject, str() as member_id] if (
                signed_subject == list(subject) and member_id
            ):
                return member_id
        return None

    def url(
        self,
        purpose: Purpose,
        path: str,
        subject: Sequence[str],
        member_id: str,
        now: datetime,
    ) -> str | None:
        """The full link for one member, or None when links are not configured."""
        if not self.configured:
            return None
        token = quote(self.token(purpose, subject, member_id, now), safe="")
        return f"{self.public_url.rstrip('/')}{path}?{TOKEN_PARAM}={token}"
