"""Build the Microsoft Teams app manifest (schema v1.29) and its zip package."""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from manifest.branding import Branding, default_branding, domain_problem

if TYPE_CHECKING:
    from collections.abc import Sequence

MANIFEST_VERSION: Final = "1.29"
SCHEMA_URL: Final = (
    "https://developer.microsoft.com/json-schemas/teams/v1.29/MicrosoftTeams.schema.json"
)
SCOPES: Final[tuple[str, ...]] = ("personal", "team", "groupChat")
# Teams rejects a command list with more entries than this (schema maxItems): the build
# fails rather than cut a list, so no command leaves the menu unseen.
MAX_COMMANDS_PER_SCOPE: Final = 12
ICON_FILES: Final[tuple[str, ...]] = ("color.png", "outline.png")

# Resource-specific consent granted per chat/team when the app is installed: the pair that
# makes Teams send meeting start and end events to the bot (chat meetings, channel meetings).
# Nothing asks Teams who joined a meeting, so the participant permissions are not requested.
RSC_PERMISSIONS: Final[tuple[tuple[str, str], ...]] = (
    ("OnlineMeeting.ReadBasic.Chat", "Application"),
    ("ChannelMeeting.ReadBasic.Group", "Application"),
)

# Channels other than standard ones the bot works in (a team-scope app always works in
# standard channels). The bot finds a panel by the activity's team id, which in a private or
# shared channel is the host team's, and decides what each person sees by their membership
# of the panel, whatever the channel. Private channels are declared: their members are some
# of the host team's, so the panel's channel posts (references, risk levels, counts) reach
# fewer people there, not others. Shared channels are not: their members can be people
# outside the team and outside the council's tenant, whom the channel posts would reach and
# the trust model does not cover; the people picker asks the team's roster, which does not
# know them; and a shared channel's host team (the panel's key) can change. Teams' newer
# `supportsChannelFeatures: "tier1"` would declare both kinds at once, so it is not set.
SUPPORTED_CHANNEL_TYPES: Final[tuple[str, ...]] = ("privateChannels",)

_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Same pattern as the schema's "semver" definition: Teams wants plain x.y.z.
_SEMVER = re.compile(r"^(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)$")
# Fixed zip timestamps make the package byte-for-byte reproducible.
_ZIP_DATE_TIME: Final = (1980, 1, 1, 0, 0, 0)

_HERE: Final = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ManifestCommand:
    """A bot command shown in the Teams command menu for the given scopes."""

    title: str
    description: str
    scopes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("ManifestCommand.title must not be empty")
        unknown = [scope for scope in self.scopes if scope not in SCOPES]
        if unknown:
            raise ValueError(
                f"ManifestCommand {self.title!r} has unknown scope(s) {unknown}; "
                f"allowed: {list(SCOPES)}"
            )


@dataclass(frozen=True)
class ManifestOptions:
    """Deployment-specific values for the manifest: the app's ids and version, the domains
    it may open, and the council's branding (the demo's when none is given)."""

    app_id: str
    bot_id: str | None = None
    version: str = "1.0.0"
    valid_domains: tuple[str, ...] = ()
    branding: Branding = field(default_factory=default_branding)

    @classmethod
    def branded(
        cls,
        app_id: str,
        branding: Branding,
        *,
        bot_id: str | None = None,
        version: str | None = None,
        valid_domains: Sequence[str] | None = None,
    ) -> ManifestOptions:
        """Options from a branding file: a version or domains given here win over its own
        (the command line's `--version` and `--domain`); without either, 1.0.0 and none."""
        return cls(
            app_id=app_id,
            bot_id=bot_id,
            version=version or branding.version or "1.0.0",
            valid_domains=tuple(valid_domains) if valid_domains else branding.valid_domains,
            branding=branding,
        )

    @property
    def effective_bot_id(self) -> str:
        """The bot's Microsoft App ID, which defaults to the Teams app id."""
        return self.bot_id if self.bot_id is not None else self.app_id


def _require_guid(value: str, field: str) -> None:
    if not _GUID.fullmatch(value):
        raise ValueError(
            f"{field} must be a GUID like 00000000-0000-0000-0000-000000000000, got {value!r}"
        )


def _command_lists(commands: Sequence[ManifestCommand]) -> list[dict[str, Any]]:
    lists: list[dict[str, Any]] = []
    for scope in SCOPES:
        in_scope = [command for command in commands if scope in command.scopes]
        if not in_scope:
            continue
        if len(in_scope) > MAX_COMMANDS_PER_SCOPE:
            titles = ", ".join(command.title for command in in_scope)
            raise ValueError(
                f"the {scope} command list would hold {len(in_scope)} commands ({titles}); "
                f"Teams allows {MAX_COMMANDS_PER_SCOPE}: choose which ones it lists"
            )
        lists.append(
            {
                "scopes": [scope],
                "commands": [
                    {"title": command.title, "description": command.description}
                    for command in in_scope
                ],
            }
        )
    return lists


def build_manifest(options: ManifestOptions, commands: Sequence[ManifestCommand]) -> dict[str, Any]:
    """Return the Teams v1.29 manifest for the bot as a JSON-ready dict; ValueError when an
    option is malformed or a scope has more commands than Teams lists."""
    _require_guid(options.app_id, "app_id")
    bot_id = options.effective_bot_id
    _require_guid(bot_id, "bot_id")
    if not _SEMVER.fullmatch(options.version):
        raise ValueError(f"version must be MAJOR.MINOR.PATCH, got {options.version!r}")
    for domain in options.valid_domains:
        if problem := domain_problem(domain):
            raise ValueError(f"a valid domain {problem}")
    brand = options.branding
    name: dict[str, str] = {"short": brand.short_name}
    if brand.full_name:
        name["full"] = brand.full_name

    bot: dict[str, Any] = {
        "botId": bot_id,
        "scopes": list(SCOPES),
        "supportsFiles": True,
        "isNotificationOnly": False,
    }
    command_lists = _command_lists(commands)
    if command_lists:
        bot["commandLists"] = command_lists

    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": options.version,
        "id": options.app_id,
        "developer": {
            "name": brand.developer_name,
            "websiteUrl": brand.website_url,
            "privacyUrl": brand.privacy_url,
            "termsOfUseUrl": brand.terms_url,
        },
        "name": name,
        "description": {"short": brand.short_description, "full": brand.full_description},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": brand.accent_color,
        "bots": [bot],
        "supportedChannelTypes": list(SUPPORTED_CHANNEL_TYPES),
        "validDomains": list(options.valid_domains),
        # RSC consent is granted to this Entra app, and it is the bot's
        # identity that receives meeting events, so both use the bot's id.
        "webApplicationInfo": {"id": bot_id, "resource": f"api://botid-{bot_id}"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [{"name": name, "type": kind} for name, kind in RSC_PERMISSIONS]
            }
        },
    }


def icon_path(name: str) -> Path:
    """Path of a demo icon shipped beside this module, "color.png" or "outline.png"."""
    if name not in ICON_FILES:
        raise ValueError(f"unknown icon {name!r}; expected one of {list(ICON_FILES)}")
    return _HERE / name


def schema_path() -> Path:
    """Path of the bundled official Teams manifest v1.29 JSON schema."""
    return _HERE / "schema" / "teams-manifest-1.29.schema.json"


def _zip_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write_package(
    path: Path, options: ManifestOptions, commands: Sequence[ManifestCommand]
) -> Path:
    """Write the Teams app zip (manifest.json and the branding's two icons at its root) to
    path; nothing is written when the manifest cannot be built."""
    manifest_json = json.dumps(build_manifest(options, commands), indent=2, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target then rename, so a failed build never leaves a
    # truncated zip that someone might upload.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as package:
            package.writestr(_zip_entry("manifest.json"), manifest_json + "\n")
            icons = (options.branding.color_png, options.branding.outline_png)
            for icon, data in zip(ICON_FILES, icons, strict=True):
                package.writestr(_zip_entry(icon), data)
        # mkstemp creates the file owner-only; a package is not a secret.
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
