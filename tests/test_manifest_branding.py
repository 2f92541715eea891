"""A council brands the app package with a small TOML file: every value reaches the manifest
and the zip, the demo file reproduces the demo package, and a bad file stops the build with
one line naming the field, before anything is written."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image, ImageDraw

from manifest import (
    RSC_PERMISSIONS,
    SUPPORTED_CHANNEL_TYPES,
    BrandingError,
    ManifestCommand,
    ManifestOptions,
    build_manifest,
    default_branding,
    icon_path,
    load_branding,
    schema_path,
    write_package,
)
from manifest.branding import DEFAULT_PATH, FULL_DESCRIPTION, SHORT_DESCRIPTION
from manifest.make_icons import DEMO_ACCENT

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "3c9e1f7a-2b4d-4e6f-8a1c-5d7e9f0b2a4c"
COMMANDS = (ManifestCommand("help", "What the bot can do", ("personal", "team", "groupChat")),)

# An invented council, every value unlike the demo's.
COUNCIL = {
    "app": {
        "short_name": "Northvale ASB Panel",
        "full_name": "Northvale Borough Council – community safety risk panel",
        "short_description": "Northvale's multi-agency panel for anti-social behaviour risk",
        "full_description": "Northvale Borough Council and its partners refer, triage and "
        "review anti-social behaviour cases together, case by case, each month.",
        "version": "2.3.4",
        "valid_domains": ["panel.northvale.example.gov.uk", "*.northvale.example.net"],
    },
    "developer": {
        "name": "Northvale Borough Council",
        "website_url": "https://www.northvale.example.gov.uk/community-safety",
        "privacy_url": "https://www.northvale.example.gov.uk/privacy/asb-panel",
        "terms_url": "https://www.northvale.example.gov.uk/terms/asb-panel",
    },
    "icons": {"accent_color": "#7A1F5C", "color": "art/colour.png", "outline": "art/line.png"},
}


def _toml_value(value: Any) -> str:
    # json.dumps writes strings and lists of strings as valid TOML.
    return json.dumps(value, ensure_ascii=False)


def write_config(folder: Path, config: dict[str, Any], name: str = "branding.toml") -> Path:
    lines = []
    for section, fields in config.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in fields.items()]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def colour_icon(size: int = 192, fill: tuple[int, int, int] = (122, 31, 92)) -> bytes:
    image = Image.new("RGB", (size, size), fill)
    ImageDraw.Draw(image).rectangle((size // 4, size // 4, size * 3 // 4, size * 3 // 4), "white")
    return png(image)


def outline_icon(size: int = 32, ink: tuple[int, int, int, int] = (255, 255, 255, 255)) -> bytes:
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    ImageDraw.Draw(image).ellipse((4, 4, size - 5, size - 5), outline=ink, width=3)
    return png(image)


@pytest.fixture
def council(tmp_path: Path) -> Path:
    """The invented council's branding file and its icons, in their own folder."""
    folder = tmp_path / "northvale"
    (folder / "art").mkdir(parents=True)
    (folder / "art" / "colour.png").write_bytes(colour_icon())
    (folder / "art" / "line.png").write_bytes(outline_icon())
    return write_config(folder, COUNCIL)


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    validator = Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


def run_bot(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("APP_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ---- a council's own branding ------------------------------------------------------------


def test_a_custom_branding_passes_the_official_schema_and_carries_every_value(
    council: Path,
) -> None:
    branding = load_branding(council)
    manifest = build_manifest(ManifestOptions.branded(APP_ID, branding), COMMANDS)

    assert schema_errors(manifest) == []
    assert manifest["version"] == "2.3.4"
    assert manifest["name"] == {
        "short": COUNCIL["app"]["short_name"],
        "full": COUNCIL["app"]["full_name"],
    }
    assert manifest["description"] == {
        "short": COUNCIL["app"]["short_description"],
        "full": COUNCIL["app"]["full_description"],
    }
    assert manifest["developer"] == {
        "name": "Northvale Borough Council",
        "websiteUrl": COUNCIL["developer"]["website_url"],
        "privacyUrl": COUNCIL["developer"]["privacy_url"],
        "termsOfUseUrl": COUNCIL["developer"]["terms_url"],
    }
    assert manifest["accentColor"] == "#7A1F5C"
    assert manifest["validDomains"] == COUNCIL["app"]["valid_domains"]
    # Nothing of the demo is left anywhere in the manifest.
    text = json.dumps(manifest, ensure_ascii=False)
    for demo in ("Community MARAC", "example.org/", "#14304A"):
        assert demo not in text


def test_the_package_holds_the_configured_icons_under_the_manifest_names(
    council: Path, tmp_path: Path
) -> None:
    options = ManifestOptions.branded(APP_ID, load_branding(council))
    target = write_package(tmp_path / "out" / "northvale.zip", options, COMMANDS)

    with zipfile.ZipFile(target) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert package.read("color.png") == (council.parent / "art" / "colour.png").read_bytes()
        assert package.read("outline.png") == (council.parent / "art" / "line.png").read_bytes()
        assert package.read("color.png") != icon_path("color.png").read_bytes()
    assert manifest == build_manifest(options, COMMANDS)
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_icon_paths_are_relative_to_the_branding_file_not_the_working_directory(
    council: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = elsewhere / "pkg.zip"
    relative = os.path.relpath(council, elsewhere)
    result = run_bot(
        "manifest", "--app-id", APP_ID, "--config", relative, "--out", "pkg.zip", cwd=elsewhere
    )
    assert result.returncode == 0, result.stderr
    assert "Teams app package for Northvale ASB Panel written to pkg.zip" in result.stdout
    with zipfile.ZipFile(out) as package:
        assert package.read("outline.png") == (council.parent / "art" / "line.png").read_bytes()


def test_the_command_line_builds_the_branded_package_and_its_flags_win(
    council: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dist" / "northvale.zip"
    result = run_bot(
        "manifest",
        *("--app-id", APP_ID, "--config", str(council), "--out", str(out)),
        *("--version", "3.0.1", "--domain", "bot.northvale.example.gov.uk"),
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as package:
        manifest = json.loads(package.read("manifest.json"))
    assert schema_errors(manifest) == []
    assert manifest["name"]["short"] == "Northvale ASB Panel"
    assert manifest["developer"]["privacyUrl"] == COUNCIL["developer"]["privacy_url"]
    assert manifest["version"] == "3.0.1"
    assert manifest["validDomains"] == ["bot.northvale.example.gov.uk"]
    assert manifest["bots"][0]["commandLists"], "the menus come from the router as before"


def test_optional_fields_left_out_get_plain_defaults_that_name_the_app(tmp_path: Path) -> None:
    (tmp_path / "c.png").write_bytes(colour_icon())
    (tmp_path / "o.png").write_bytes(outline_icon())
    minimal = {
        "app": {"short_name": "Eastbrook Panel"},
        "developer": dict(COUNCIL["developer"], name="Eastbrook Council"),
        "icons": {"accent_color": "#0B6E4F", "color": "c.png", "outline": "o.png"},
    }
    branding = load_branding(write_config(tmp_path, minimal))
    manifest = build_manifest(ManifestOptions.branded(APP_ID, branding), COMMANDS)

    assert schema_errors(manifest) == []
    assert manifest["name"] == {"short": "Eastbrook Panel"}
    assert manifest["description"]["short"] == SHORT_DESCRIPTION
    assert manifest["description"]["full"] == FULL_DESCRIPTION.format(name="Eastbrook Panel")
    assert manifest["description"]["full"].startswith("Eastbrook Panel supports")
    assert manifest["version"] == "1.0.0"
    assert manifest["validDomains"] == []


# ---- the demo's branding -----------------------------------------------------------------


def test_the_default_branding_reproduces_the_demo_package() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)

    assert manifest["name"] == {
        "short": "Community MARAC",
        "full": "Community MARAC – multi-agency ASB risk panel",
    }
    assert manifest["developer"] == {
        "name": "Community MARAC",
        "websiteUrl": "https://example.org/community-marac",
        "privacyUrl": "https://example.org/community-marac/privacy",
        "termsOfUseUrl": "https://example.org/community-marac/terms",
    }
    assert manifest["description"] == {
        "short": "Referrals, triage, panel meetings and actions for the community MARAC",
        "full": FULL_DESCRIPTION.format(name="Community MARAC"),
    }
    assert manifest["accentColor"] == "#14304A"
    assert manifest["version"] == "1.0.0"
    assert manifest["validDomains"] == []
    assert schema_errors(manifest) == []
    demo = default_branding()
    assert demo == load_branding(DEFAULT_PATH)
    assert demo.color_png == icon_path("color.png").read_bytes()
    assert demo.outline_png == icon_path("outline.png").read_bytes()


def test_the_demo_icon_background_is_the_demo_accent_colour() -> None:
    assert default_branding().accent_color == DEMO_ACCENT
    with Image.open(icon_path("color.png")) as image:
        corner = image.convert("RGB").getpixel((0, 0))
    assert corner == tuple(int(DEMO_ACCENT[i : i + 2], 16) for i in (1, 3, 5))


def test_only_the_meeting_event_permissions_are_requested() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    requested = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert (
        [(p["name"], p["type"]) for p in requested]
        == list(RSC_PERMISSIONS)
        == [
            ("OnlineMeeting.ReadBasic.Chat", "Application"),
            ("ChannelMeeting.ReadBasic.Group", "Application"),
        ]
    )
    assert not any("Participant" in p["name"] for p in requested)


def test_private_channels_are_declared_and_shared_channels_are_not() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    assert manifest["supportedChannelTypes"] == list(SUPPORTED_CHANNEL_TYPES) == ["privateChannels"]
    # The newer switch would admit shared channels as well.
    assert "supportsChannelFeatures" not in manifest
    assert "team" in manifest["bots"][0]["scopes"]  # standard channels come with team scope


def test_the_demo_branding_file_is_shipped_with_the_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'manifest = ["*.png", "*.toml", "schema/*"]' in pyproject
    assert DEFAULT_PATH.parent == icon_path("color.png").parent


# ---- bad branding ------------------------------------------------------------------------


def _without(section: str, field: str) -> dict[str, Any]:
    config = {name: dict(fields) for name, fields in COUNCIL.items()}
    del config[section][field]
    return config


def _with(section: str, field: str, value: Any) -> dict[str, Any]:
    config = {name: dict(fields) for name, fields in COUNCIL.items()}
    config[section][field] = value
    return config


BAD_CONFIGS = {
    "missing short name": (_without("app", "short_name"), "app.short_name is missing"),
    "missing privacy url": (
        _without("developer", "privacy_url"),
        "developer.privacy_url is missing",
    ),
    "missing outline icon": (_without("icons", "outline"), "icons.outline is missing"),
    "http privacy url": (
        _with("developer", "privacy_url", "http://www.northvale.example.gov.uk/privacy"),
        "developer.privacy_url must be an https:// address",
    ),
    "url without host": (
        _with("developer", "terms_url", "https:///terms"),
        "developer.terms_url must be a web address",
    ),
    "colour name": (
        _with("icons", "accent_color", "purple"),
        "icons.accent_color must be a colour",
    ),
    "short colour": (
        _with("icons", "accent_color", "#7A1F5"),
        "icons.accent_color must be a colour",
    ),
    "colour not text": (_with("icons", "accent_color", 7), "icons.accent_color must be a colour"),
    "long short name": (
        _with("app", "short_name", "Northvale Borough ASB Risk Panel"),
        "app.short_name is 32 characters long; Teams allows 30",
    ),
    "long developer name": (
        _with("developer", "name", "Northvale Borough Council Community Safety"),
        "developer.name is 42 characters long; Teams allows 32",
    ),
    "long short description": (
        _with("app", "short_description", "x" * 81),
        "app.short_description is 81 characters long; Teams allows 80",
    ),
    "empty name": (_with("app", "short_name", "  "), "app.short_name is empty"),
    "name not text": (_with("app", "short_name", 12), "app.short_name must be text"),
    "line break in name": (
        _with("app", "short_name", "Northvale\nPanel"),
        "app.short_name holds a line break",
    ),
    "bad version": (_with("app", "version", "2.3"), "app.version must be MAJOR.MINOR.PATCH"),
    "domain with scheme": (
        _with("app", "valid_domains", ["https://panel.northvale.example.gov.uk"]),
        "app.valid_domains must be a host name like bot.example.org, without https://",
    ),
    "domains not a list": (
        _with("app", "valid_domains", "panel.northvale.example.gov.uk"),
        "app.valid_domains must be a list of host names",
    ),
    "misspelt field": (
        _with("developer", "privacy_link", "https://www.northvale.example.gov.uk/p"),
        "developer.privacy_link is not a field of [developer]",
    ),
    "unknown section": (
        dict(COUNCIL, colours={"accent": "#7A1F5C"}),
        "[colours] is not a section of a branding file",
    ),
    "missing icon file": (
        _with("icons", "color", "art/missing.png"),
        "icons.color (art/missing.png) cannot be read",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_a_bad_branding_file_gives_one_line_naming_the_field(case: str, council: Path) -> None:
    config, expected = BAD_CONFIGS[case]
    path = write_config(council.parent, config, name="bad.toml")
    with pytest.raises(BrandingError) as refused:
        load_branding(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def _council_with_icon(council: Path, field: str, data: bytes) -> Path:
    (council.parent / "art" / "other.png").write_bytes(data)
    return write_config(council.parent, _with("icons", field, "art/other.png"), name="bad.toml")


BAD_ICONS = {
    "colour icon too small": (
        "color",
        colour_icon(size=96),
        "icons.color (art/other.png) is 96×96 pixels; Teams wants 192×192",
    ),
    "outline icon too big": (
        "outline",
        outline_icon(size=192),
        "icons.outline (art/other.png) is 192×192 pixels; Teams wants 32×32",
    ),
    "outline icon given the colour icon's size by mistake": (
        "outline",
        colour_icon(),
        "icons.outline (art/other.png) is 192×192 pixels; Teams wants 32×32",
    ),
    "outline icon with no transparency": (
        "outline",
        png(Image.new("RGB", (32, 32), (255, 255, 255))),
        "icons.outline (art/other.png) has no transparent background",
    ),
    "outline icon with an alpha channel but no transparent pixel": (
        "outline",
        png(Image.new("RGBA", (32, 32), (255, 255, 255, 255))),
        "icons.outline (art/other.png) has no transparent background",
    ),
    "outline icon in colour": (
        "outline",
        outline_icon(ink=(122, 31, 92, 255)),
        "icons.outline (art/other.png) is not white: pixel (",
    ),
    "outline icon with nothing drawn": (
        "outline",
        png(Image.new("RGBA", (32, 32), (255, 255, 255, 0))),
        "icons.outline (art/other.png) is entirely transparent",
    ),
    "colour icon as a JPEG": (
        "color",
        jpeg(Image.new("RGB", (192, 192), (122, 31, 92))),
        "icons.color (art/other.png) is not a PNG file",
    ),
    "colour icon cut short": (
        "color",
        colour_icon()[:400],
        "icons.color (art/other.png) is cut short",
    ),
    "icon that is text": ("color", b"not an image\n", "icons.color (art/other.png) is not a PNG"),
}


@pytest.mark.parametrize("case", list(BAD_ICONS))
def test_an_icon_teams_would_refuse_is_refused_naming_the_field(case: str, council: Path) -> None:
    field, data, expected = BAD_ICONS[case]
    with pytest.raises(BrandingError) as refused:
        load_branding(_council_with_icon(council, field, data))
    assert expected in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_file_that_is_not_toml_or_not_there_is_refused_plainly(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[app]\nshort_name = "Northvale\n', encoding="utf-8")
    with pytest.raises(BrandingError, match=r"broken\.toml: is not valid TOML \(.*line 2"):
        load_branding(broken)
    with pytest.raises(BrandingError, match=r"absent\.toml: cannot be read \(No such file"):
        load_branding(tmp_path / "absent.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes('[app]\nshort_name = "Caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(BrandingError, match=r"latin\.toml: is not UTF-8 text"):
        load_branding(latin)


def test_a_bad_domain_on_the_command_line_is_refused_too() -> None:
    options = ManifestOptions(app_id=APP_ID, valid_domains=("https://bot.example.org/",))
    with pytest.raises(ValueError, match="a valid domain must be a host name"):
        build_manifest(options, COMMANDS)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("http privacy url", "developer.privacy_url must be an https:// address"),
        ("colour name", "icons.accent_color must be a colour"),
        ("missing short name", "app.short_name is missing"),
    ],
)
def test_the_command_line_refuses_a_bad_branding_file_and_writes_nothing(
    case: str, expected: str, council: Path, tmp_path: Path
) -> None:
    path = write_config(council.parent, BAD_CONFIGS[case][0], name="bad.toml")
    out = tmp_path / "dist" / "northvale.zip"
    result = run_bot("manifest", "--app-id", APP_ID, "--config", str(path), "--out", str(out))
    assert result.returncode != 0
    assert "Cannot build the package: the branding file" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.parent.exists()


def test_the_command_line_refuses_a_wrong_icon_size_and_writes_nothing(
    council: Path, tmp_path: Path
) -> None:
    path = _council_with_icon(council, "color", colour_icon(size=191))
    out = tmp_path / "northvale.zip"
    result = run_bot("manifest", "--app-id", APP_ID, "--config", str(path), "--out", str(out))
    assert result.returncode != 0
    assert "icons.color (art/other.png) is 191×191 pixels; Teams wants 192×192" in result.stderr
    assert list(tmp_path.glob("*.zip")) == []
