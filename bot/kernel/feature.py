"""What a feature declares to the app: the one shape every feature package exposes as
FEATURE, so that the app, help, the manifest, the card gallery and the tests all derive
from bot.features.FEATURES instead of lists kept in step by hand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.kernel.links import Links

if TYPE_CHECKING:
    from bot.kernel.events import Subscriber
    from bot.kernel.ports import FileUploads, PanelCalendar
    from bot.kernel.router import Deps, Router
    from bot.settings import Settings
    from cards.kit import Card


@dataclass(frozen=True)
class Setup:
    """What a feature may be configured with: the settings (None in tests that build a
    router alone) and the collaborators at the network edge."""

    settings: Settings | None = None
    panel_calendar: PanelCalendar | None = None
    # Puts a file in a member's OneDrive (bot.teams.upload): the approved minutes.
    uploads: FileUploads | None = None

    def links(self) -> Links:
        """The signed download links: the public address and the secrets (LINK_SECRETS, or
        ICS_SIGNING_SECRET for deployments that predate it); none without settings."""
        if self.settings is None:
            return Links()
        return Links.of(self.settings.public_url, self.settings.download_secrets)


@dataclass(frozen=True)
class Download:
    """A file a signed link fetched."""

    body: bytes
    content_type: str
    file_name: str
    charset: str | None = None


# A GET route's handler: the path's parts and the query in, a file or None (404) out.
DownloadHandler = Callable[[Mapping[str, str], Mapping[str, str]], Awaitable[Download | None]]


@dataclass(frozen=True)
class Route:
    """A download a feature serves, e.g. "/panels/{panel_id}/meetings.ics"."""

    path: str
    handler: DownloadHandler


@dataclass(frozen=True)
class Job:
    """A periodic job (bot.kernel.jobs runs it once across instances): its name (unique,
    kept in the database with its schedule), how often it runs, and what a run does. On a
    database where it never ran, its first run is `first_after` from then."""

    name: str
    every: timedelta
    run: Callable[[], Awaitable[object]]
    first_after: timedelta = timedelta(0)


def _nothing(*_: Any) -> Sequence[Any]:
    return ()


@dataclass(frozen=True)
class Feature:
    """One feature: its name, how it registers its commands and verbs, the cards it sends
    (rendered with invented data for the gallery; help's need the app's router), the
    events it listens to, the downloads it serves and the periodic jobs it runs (given the
    setup, the deps and the delivery's kick, which wakes the delivery of queued cards)."""

    name: str
    register: Callable[[Router, Setup], None]
    gallery: Callable[[Router], Mapping[str, Card]]
    # The events it listens to: a table, or one made from the setup (e.g. the meetings
    # feature's needs the panels' schedules).
    subscribers: (
        Mapping[type[Any], Subscriber] | Callable[[Setup], Mapping[type[Any], Subscriber]]
    ) = field(default_factory=dict)
    routes: Callable[[Setup, Deps], Sequence[Route]] = _nothing
    jobs: Callable[[Setup, Deps, Callable[[], None]], Sequence[Job]] = _nothing

    def subscriptions(self, setup: Setup) -> Mapping[type[Any], Subscriber]:
        """The events it listens to and their subscribers, configured by `setup`."""
        found = self.subscribers
        return found(setup) if callable(found) else found
