"""A council's branding of the Teams app package, read from a small TOML file.

`branding.toml` beside this file is the demo's branding and the default; a council writes
its own (the same fields) and passes it to `python -m bot manifest --config FILE`. Every
value is checked here, before anything is written, and a bad one stops the build with one
line that names the file and the field: Teams would refuse the package later, with less to
go on. The icons are read once, checked, and their bytes are what the package holds.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from manifest.png import PngError, png_size, read_png

DEFAULT_PATH: Final = Path(__file__).resolve().parent / "branding.toml"

# Used when a branding file gives no descriptions: they describe the panel, and the full one
# names the app by its short name.
SHORT_DESCRIPTION: Final = "Referrals, triage, panel meetings and actions for the community MARAC"
FULL_DESCRIPTION: Final = (
    "{name} supports the multi-agency anti-social behaviour (ASB) risk "
    "panel in Microsoft Teams. Partner agencies submit referrals together with a "
    "risk assessment. Referrals are triaged and the cases that need the panel are "
    "placed on the agenda for the monthly meeting. During the meeting the bot "
    "takes the panel through the agenda case by case and records the actions "
    "agreed. Each action is assigned to an agency single point of contact (SPOC), "
    "who receives reminders in Teams until it is completed."
)

# The Teams manifest schema's limits (v1.29) and its icon sizes.
MAX_SHORT_NAME: Final = 30
MAX_FULL_NAME: Final = 100
MAX_DEVELOPER_NAME: Final = 32
MAX_SHORT_DESCRIPTION: Final = 80
MAX_FULL_DESCRIPTION: Final = 4000
MAX_URL: Final = 2048
MAX_DOMAINS: Final = 100
COLOR_ICON_SIZE: Final = 192
OUTLINE_ICON_SIZE: Final = 32
# Icons are small; a larger file is refused before it is read.
MAX_ICON_BYTES: Final = 1024 * 1024

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?:\*\.)?(?:{_LABEL}\.)+{_LABEL}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Every field a branding file may hold: section → field → required.
FIELDS: Final[dict[str, dict[str, bool]]] = {
    "app": {
        "short_name": True,
        "full_name": False,
        "short_description": False,
        "full_description": False,
        "version": False,
        "valid_domains": False,
    },
    "developer": {"name": True, "website_url": True, "privacy_url": True, "terms_url": True},
    "icons": {"accent_color": True, "color": True, "outline": True},
}


class BrandingError(ValueError):
    """A branding file that cannot make a package; the message is one line naming the file
    and the field."""


@dataclass(frozen=True)
class Branding:
    """What the app package shows of the app and its publisher."""

    short_name: str
    full_name: str | None
    short_description: str
    full_description: str
    developer_name: str
    website_url: str
    privacy_url: str
    terms_url: str
    accent_color: str
    color_png: bytes
    outline_png: bytes
    version: str | None = None
    valid_domains: tuple[str, ...] = ()


def domain_problem(value: str) -> str | None:
    """Why `value` cannot be a manifest valid domain (a host name, optionally `*.` first,
    no scheme, port or path), or None when it can."""
    if "://" in value or "/" in value:
        return f"must be a host name like bot.example.org, without https:// or a path: {value!r}"
    if len(value) > 253 or not _DOMAIN.fullmatch(value):
        return f"must be a host name like bot.example.org or *.example.org: {value!r}"
    return None


def load_branding(path: Path | str) -> Branding:
    """The branding in the TOML file at `path`, every value checked; BrandingError (one line,
    naming the file and the field) when the file cannot be read or a value will not do."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BrandingError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BrandingError(f"{source}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise BrandingError(f"{source}: is not valid TOML ({exc})") from None
    return _Reader(source, path.resolve().parent, data).branding()


@functools.cache
def default_branding() -> Branding:
    """The demo's branding, from `branding.toml` beside this module (read once)."""
    return load_branding(DEFAULT_PATH)


class _Reader:
    """Checks one parsed branding file, field by field."""

    def __init__(self, source: str, folder: Path, data: dict[str, Any]) -> None:
        self.source = source
        self.folder = folder
        self.data = data

    def fail(self, field: str, problem: str) -> BrandingError:
        return BrandingError(f"{self.source}: {field} {problem}")

    def branding(self) -> Branding:
        self._only_known_fields()
        short_name = self.text("app.short_name", MAX_SHORT_NAME)
        full_name = self.text("app.full_name", MAX_FULL_NAME, required=False)
        short_description = self.text("app.short_description", MAX_SHORT_DESCRIPTION, False)
        full_description = self.text(
            "app.full_description", MAX_FULL_DESCRIPTION, required=False, lines=True
        )
        return Branding(
            short_name=short_name,
            full_name=full_name,
            short_description=short_description or SHORT_DESCRIPTION,
            full_description=full_description or FULL_DESCRIPTION.format(name=short_name),
            developer_name=self.text("developer.name", MAX_DEVELOPER_NAME),
            website_url=self.url("developer.website_url"),
            privacy_url=self.url("developer.privacy_url"),
            terms_url=self.url("developer.terms_url"),
            accent_color=self.colour("icons.accent_color"),
            color_png=self.color_icon("icons.color"),
            outline_png=self.outline_icon("icons.outline"),
            version=self.version("app.version"),
            valid_domains=self.domains("app.valid_domains"),
        )

    def _only_known_fields(self) -> None:
        for section, value in self.data.items():
            if section not in FIELDS:
                known = ", ".join(f"[{name}]" for name in FIELDS)
                raise self.fail(f"[{section}]", f"is not a section of a branding file ({known})")
            if not isinstance(value, dict):
                raise self.fail(section, "must be a section: write [" + section + "]")
            for name in value:
                if name not in FIELDS[section]:
                    known = ", ".join(FIELDS[section])
                    raise self.fail(f"{section}.{name}", f"is not a field of [{section}] ({known})")
        for section, fields in FIELDS.items():
            for name, required in fields.items():
                if required and name not in self.data.get(section, {}):
                    raise self.fail(f"{section}.{name}", "is missing")

    def value(self, field: str) -> Any:
        section, name = field.split(".")
        return self.data.get(section, {}).get(name)

    def text(self, field: str, limit: int, required: bool = True, lines: bool = False) -> str:
        value = self.value(field)
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise self.fail(field, "must be text in quotes")
        value = value.strip()
        if not value:
            raise self.fail(field, "is empty")
        if len(value) > limit:
            raise self.fail(field, f"is {len(value)} characters long; Teams allows {limit}")
        if _CONTROL.search(value.replace("\n", "") if lines else value):
            where = "a control character" if lines else "a line break or control character"
            raise self.fail(field, f"holds {where}")
        return value

    def url(self, field: str) -> str:
        value = self.text(field, MAX_URL)
        parts = urlsplit(value)
        if parts.scheme.lower() != "https":
            raise self.fail(field, f"must be an https:// address (Teams wants it), not {value!r}")
        if not parts.hostname or " " in value or "@" in parts.netloc:
            raise self.fail(field, f"must be a web address like https://example.org, not {value!r}")
        return value

    def colour(self, field: str) -> str:
        value = self.value(field)
        if not isinstance(value, str) or not _HEX_COLOUR.fullmatch(value):
            raise self.fail(field, f"must be a colour written #RRGGBB, like #14304A, not {value!r}")
        return value

    def version(self, field: str) -> str | None:
        value = self.value(field)
        if value is None:
            return None
        if not isinstance(value, str) or not _SEMVER.fullmatch(value):
            raise self.fail(field, f"must be MAJOR.MINOR.PATCH, like 1.0.0, not {value!r}")
        return value

    def domains(self, field: str) -> tuple[str, ...]:
        value = self.value(field)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.fail(field, 'must be a list of host names, like ["bot.example.org"]')
        if len(value) > MAX_DOMAINS:
            raise self.fail(field, f"holds {len(value)} host names; Teams allows {MAX_DOMAINS}")
        for item in value:
            if problem := domain_problem(item):
                raise self.fail(field, problem)
        return tuple(value)

    def icon(self, field: str, side: int) -> tuple[str, bytes]:
        value = self.value(field)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "must be the path of a PNG file, in quotes")
        path = self.folder / value
        try:
            if path.stat().st_size > MAX_ICON_BYTES:
                raise self.fail(field, f"({value}) is larger than {MAX_ICON_BYTES // 1024} KB")
            data = path.read_bytes()
        except OSError as exc:
            raise self.fail(field, f"({value}) cannot be read ({exc.strerror or exc})") from None
        try:
            width, height = png_size(data)
        except PngError as exc:
            raise self.fail(field, f"({value}) {exc}") from None
        if (width, height) != (side, side):
            raise self.fail(
                field, f"({value}) is {width}×{height} pixels; Teams wants {side}×{side}"
            )
        return value, data

    def color_icon(self, field: str) -> bytes:
        name, data = self.icon(field, COLOR_ICON_SIZE)
        try:
            read_png(data)
        except PngError as exc:
            raise self.fail(field, f"({name}) {exc}") from None
        return data

    def outline_icon(self, field: str) -> bytes:
        name, data = self.icon(field, OUTLINE_ICON_SIZE)
        try:
            image = read_png(data)
        except PngError as exc:
            raise self.fail(field, f"({name}) {exc}") from None
        if not image.has_alpha or 0 not in image.rgba[3::4]:
            raise self.fail(
                field, f"({name}) has no transparent background; Teams wants white on transparent"
            )
        visible = False
        for y in range(image.height):
            for x in range(image.width):
                r, g, b, a = image.pixel(x, y)
                if a and (r, g, b) != (255, 255, 255):
                    raise self.fail(
                        field,
                        f"({name}) is not white: pixel ({x}, {y}) is #{r:02X}{g:02X}{b:02X}; "
                        "Teams wants white on transparent",
                    )
                visible = visible or a > 0
        if not visible:
            raise self.fail(field, f"({name}) is entirely transparent")
        return data
