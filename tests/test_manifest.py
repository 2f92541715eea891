"""The Teams app package: manifest content, schema validity, zip layout, icons."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from manifest import (
    MANIFEST_VERSION,
    SCHEMA_URL,
    ManifestCommand,
    ManifestOptions,
    build_manifest,
    icon_path,
    schema_path,
    write_package,
)

APP_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
BOT_ID = "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
SHARED_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas"

COMMANDS = (
    ManifestCommand("help", "What the bot can do", ("personal", "team", "groupChat")),
    ManifestCommand("refer", "Start a new referral with a risk assessment", ("personal",)),
    ManifestCommand("my actions", "Actions assigned to you as agency SPOC", ("personal",)),
    ManifestCommand("agenda", "Show the agenda for the next panel", ("team", "groupChat")),
    ManifestCommand("start panel", "Run the panel meeting case by case", ("groupChat",)),
)


def _validator() -> Draft4Validator:
    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    # The schema's own patterns use ECMAScript \p{L}, which Python's re cannot
    # compile, so check its structure without the "regex" format check.
    Draft4Validator.check_schema(schema, format_checker=None)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def _errors(manifest: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in _validator().iter_errors(manifest)
    ]


def _command_list(manifest: dict[str, Any], scope: str) -> list[dict[str, Any]]:
    lists = [entry for entry in manifest["bots"][0]["commandLists"] if scope in entry["scopes"]]
    assert len(lists) == 1, f"expected one command list for {scope}, got {lists}"
    commands: list[dict[str, Any]] = lists[0]["commands"]
    return commands


def test_built_manifest_passes_the_official_1_29_schema() -> None:
    manifest = build_manifest(
        ManifestOptions(app_id=APP_ID, valid_domains=("marac.example.org",)), COMMANDS
    )
    assert _errors(manifest) == []


def test_schema_validation_is_not_vacuous() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    manifest["id"] = "not-a-guid"
    manifest["bots"][0]["commandLists"][0]["commands"] *= 13
    manifest["bots"][0]["commandLists"][0]["commands"][0]["triggers"] = ["mention"]
    errors = "\n".join(_errors(manifest))
    assert "id: 'not-a-guid' does not match" in errors
    assert "is too long" in errors
    assert "'triggers' was unexpected" in errors


def test_manifest_declares_version_1_29_and_its_schema_url() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    # Draft 4 ignores the schema's "const", so check the version directly.
    assert manifest["manifestVersion"] == MANIFEST_VERSION == "1.29"
    assert manifest["$schema"] == SCHEMA_URL
    assert "/v1.29/" in SCHEMA_URL


def test_manifest_without_commands_still_passes_the_schema() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), [])
    assert "commandLists" not in manifest["bots"][0]
    assert _errors(manifest) == []


def test_bot_id_defaults_to_the_app_id() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://botid-{APP_ID}"}


def test_a_separate_bot_id_is_used_for_the_bot_and_its_rsc_identity() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID, bot_id=BOT_ID), COMMANDS)
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["webApplicationInfo"]["resource"] == f"api://botid-{BOT_ID}"
    assert _errors(manifest) == []


def test_bot_is_conversational_in_every_scope_without_files() -> None:
    bot = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)["bots"][0]
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is True  # the coordinator uploads a CSV of members
    assert bot["isNotificationOnly"] is False


def test_meeting_rsc_permissions_are_requested_as_application_permissions() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    permissions = manifest["authorization"]["permissions"]["resourceSpecific"]
    # The pair that delivers meeting start and end events; nothing reads who joined.
    assert {(p["name"], p["type"]) for p in permissions} == {
        ("OnlineMeeting.ReadBasic.Chat", "Application"),
        ("ChannelMeeting.ReadBasic.Group", "Application"),
    }
    assert "ChatMessage.Read.Chat" not in {p["name"] for p in permissions}


def test_valid_domains_are_passed_through() -> None:
    options = ManifestOptions(app_id=APP_ID, valid_domains=("marac.example.org", "*.example.net"))
    assert build_manifest(options, COMMANDS)["validDomains"] == [
        "marac.example.org",
        "*.example.net",
    ]


def test_names_and_descriptions_fit_teams_limits() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    assert manifest["name"] == {
        "short": "Community MARAC",
        "full": "Community MARAC – multi-agency ASB risk panel",
    }
    assert len(manifest["description"]["short"]) <= 80
    full = manifest["description"]["full"].lower()
    for topic in (
        "referral",
        "risk assessment",
        "triage",
        "agenda",
        "monthly",
        "action",
        "remind",
        "spoc",
    ):
        assert topic in full


def test_each_scope_list_holds_only_commands_with_that_scope() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    for entry in manifest["bots"][0]["commandLists"]:
        assert len(entry["scopes"]) == 1
        (scope,) = entry["scopes"]
        expected = [c.title for c in COMMANDS if scope in c.scopes]
        assert [c["title"] for c in entry["commands"]] == expected
    assert [c["title"] for c in _command_list(manifest, "personal")] == [
        "help",
        "refer",
        "my actions",
    ]
    assert [c["title"] for c in _command_list(manifest, "groupChat")] == [
        "help",
        "agenda",
        "start panel",
    ]


def test_scopes_without_commands_get_no_command_list() -> None:
    manifest = build_manifest(
        ManifestOptions(app_id=APP_ID), [ManifestCommand("refer", "New referral", ("personal",))]
    )
    assert [entry["scopes"] for entry in manifest["bots"][0]["commandLists"]] == [["personal"]]


def test_commands_carry_title_and_description_only() -> None:
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    for entry in manifest["bots"][0]["commandLists"]:
        for command in entry["commands"]:
            # The 1.29 schema forbids extra keys (e.g. triggers) on a command.
            assert set(command) == {"title", "description"}


def test_a_scope_lists_twelve_commands_and_a_thirteenth_fails_the_build(tmp_path: Path) -> None:
    twelve = [
        ManifestCommand(f"command {n}", f"Does thing {n}", ("personal", "team", "groupChat"))
        for n in range(1, 13)
    ]
    manifest = build_manifest(ManifestOptions(app_id=APP_ID), twelve)
    for scope in ("personal", "team", "groupChat"):
        titles = [c["title"] for c in _command_list(manifest, scope)]
        assert titles == [f"command {n}" for n in range(1, 13)]
    assert _errors(manifest) == []

    thirteenth = [*twelve, ManifestCommand("command 13", "Does thing 13", ("team",))]
    with pytest.raises(ValueError, match="the team command list would hold 13 commands") as no:
        build_manifest(ManifestOptions(app_id=APP_ID), thirteenth)
    assert "command 13" in str(no.value) and "Teams allows 12" in str(no.value)
    with pytest.raises(ValueError, match="Teams allows 12"):
        write_package(tmp_path / "app.zip", ManifestOptions(app_id=APP_ID), thirteenth)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "app_id",
    [
        "",
        "not-a-guid",
        "6f1c2a3b4d5e4f608a7b9c0d1e2f3a4b",
        "{6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b}",
        APP_ID + "0",
    ],
)
def test_a_non_guid_app_id_raises_value_error(app_id: str) -> None:
    with pytest.raises(ValueError, match="app_id must be a GUID"):
        build_manifest(ManifestOptions(app_id=app_id), COMMANDS)


def test_a_non_guid_bot_id_raises_value_error() -> None:
    with pytest.raises(ValueError, match="bot_id must be a GUID"):
        build_manifest(ManifestOptions(app_id=APP_ID, bot_id="my-bot"), COMMANDS)


def test_a_version_that_is_not_plain_semver_raises_value_error() -> None:
    with pytest.raises(ValueError, match="version"):
        build_manifest(ManifestOptions(app_id=APP_ID, version="1.0"), COMMANDS)


def test_a_command_with_an_unknown_scope_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        ManifestCommand("agenda", "Show the agenda", ("meetings",))


def test_build_manifest_does_not_mutate_its_inputs_and_is_repeatable() -> None:
    commands = list(COMMANDS)
    first = build_manifest(ManifestOptions(app_id=APP_ID), commands)
    second = build_manifest(ManifestOptions(app_id=APP_ID), commands)
    assert first == second
    assert commands == list(COMMANDS)


def test_package_zip_holds_exactly_the_manifest_and_two_icons(tmp_path: Path) -> None:
    target = tmp_path / "out" / "community-marac.zip"
    written = write_package(target, ManifestOptions(app_id=APP_ID), COMMANDS)
    assert written == target
    with zipfile.ZipFile(target) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json").decode("utf-8"))
        color = package.read("color.png")
        outline = package.read("outline.png")
    assert _errors(manifest) == []
    assert manifest == build_manifest(ManifestOptions(app_id=APP_ID), COMMANDS)
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert color == icon_path("color.png").read_bytes()
    assert outline == icon_path("outline.png").read_bytes()


def test_package_is_reproducible(tmp_path: Path) -> None:
    options = ManifestOptions(app_id=APP_ID)
    first = write_package(tmp_path / "a.zip", options, COMMANDS).read_bytes()
    second = write_package(tmp_path / "b.zip", options, COMMANDS).read_bytes()
    assert first == second
    # No temporary files are left next to the packages.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "b.zip"]


def test_an_invalid_app_id_leaves_no_package_behind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="app_id must be a GUID"):
        write_package(tmp_path / "bad.zip", ManifestOptions(app_id="nope"), COMMANDS)
    assert list(tmp_path.iterdir()) == []


def test_color_icon_is_an_opaque_192_square() -> None:
    with Image.open(io.BytesIO(icon_path("color.png").read_bytes())) as image:
        assert image.format == "PNG"
        assert image.size == (192, 192)
        rgba = image.convert("RGBA")
    alpha_min, _ = rgba.getchannel("A").getextrema()
    assert alpha_min == 255


def test_outline_icon_is_32_square_white_on_transparent() -> None:
    with Image.open(io.BytesIO(icon_path("outline.png").read_bytes())) as image:
        assert image.format == "PNG"
        assert image.size == (32, 32)
        assert image.mode == "RGBA"
        rgba = image.convert("RGBA")
    pixels = [rgba.getpixel((x, y)) for y in range(32) for x in range(32)]
    visible = [p for p in pixels if isinstance(p, tuple) and p[3] > 0]
    assert visible, "outline icon is empty"
    assert all(p[:3] == (255, 255, 255) for p in visible)
    for corner in ((0, 0), (31, 0), (0, 31), (31, 31)):
        pixel = rgba.getpixel(corner)
        assert isinstance(pixel, tuple)
        assert pixel[3] == 0, f"corner {corner} is not transparent"


def test_unknown_icon_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown icon"):
        icon_path("manifest.json")


@pytest.mark.skipif(not SHARED_SCHEMAS.is_dir(), reason="shared schemas folder not present")
def test_bundled_schema_is_byte_identical_to_the_shared_copy() -> None:
    shared = SHARED_SCHEMAS / "teams-manifest-1.29.schema.json"
    assert schema_path().read_bytes() == shared.read_bytes()
    licence = SHARED_SCHEMAS / "teams-manifest-LICENSE.txt"
    if licence.is_file():
        assert (schema_path().parent / "LICENSE.txt").read_bytes() == licence.read_bytes()
