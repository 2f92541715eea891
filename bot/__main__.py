"""Command line: `python -m bot [serve|migrate|seed-demo|reapply-erasures|manifest|cards ...]`."""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import json
import logging
import sys
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from bot.kernel.router import Router
    from manifest import ManifestCommand


NO_APP_ID = (
    "Refusing to serve on {host} without APP_ID: with no app id the bot accepts every "
    "request unauthenticated, so anyone who can reach it could act as any panel member. Set "
    "APP_ID, APP_PASSWORD and APP_TENANTID (README, Deploying for real), or serve on "
    "127.0.0.1 for the Agents Playground, or add --insecure-local-test on a test machine "
    "that holds no real data."
)
INSECURE = (
    "WARNING: --insecure-local-test: serving on {host} WITHOUT authentication. Anyone who "
    "can reach this port can act as any member. Never use it with real data."
)


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only: 127.0.0.0/8, ::1 or localhost
    (an empty host, 0.0.0.0 or :: means every interface, so it is not)."""
    name = host.strip().removeprefix("[").removesuffix("]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # another name may resolve anywhere


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as err:
        sys.exit(f"Configuration error: {err}")


def _prepare_sqlite_dir(settings: Settings) -> None:
    prefix = "sqlite+aiosqlite:///"
    if settings.database_url.startswith(prefix):
        path = settings.database_url.removeprefix(prefix)
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the bot's web server until interrupted."""
    from aiohttp import web

    from bot.access_log import PathOnlyAccessLogger, redact_tokens
    from bot.app import create_app

    settings = _settings()
    host = args.host or settings.host
    port = args.port or settings.port
    if settings.local_mode and not is_loopback(host):
        # Without an app id nothing authenticates a request: served beyond this machine,
        # anyone who reaches the port could act as any member of any panel.
        if not args.insecure_local_test:
            print(NO_APP_ID.format(host=host), file=sys.stderr, flush=True)
            return 2
        print(INSECURE.format(host=host), file=sys.stderr, flush=True)
    _prepare_sqlite_dir(settings)
    from bot.observability import logs

    logs.configure(settings)  # LOG_FORMAT, LOG_LEVEL, and the settings' secrets blanked
    mode = "local mode (no app id: Agents Playground only)" if settings.local_mode else "secured"
    banner = f"Community MARAC bot on http://{host}:{port}/api/messages, {mode}"
    if settings.log_format == "json":
        logging.getLogger("bot").info(banner)  # every line a JSON object
    else:
        print(banner, flush=True)
    # Download links carry their token in the query: the access log leaves it out, and
    # aiohttp's own error lines have it blanked.
    redact_tokens()
    app = create_app(settings)
    # What start-up built (modules, the app) lives as long as the process: left out of the
    # collector's passes, a full collection no longer holds the event loop for up to 0.4 s,
    # which made the outbox miss its turns of the tenant's budget (bot.teams.outbox.budget).
    gc.collect()
    gc.freeze()
    web.run_app(
        app,
        host=host,
        port=port,
        print=None,
        access_log_class=PathOnlyAccessLogger,
    )
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Bring the database schema up to date."""
    from storage import migrate

    settings = _settings()
    _prepare_sqlite_dir(settings)
    migrate(settings.database_url)
    print("Database schema is up to date.")
    return 0


def cmd_seed_demo(_args: argparse.Namespace) -> int:
    """Create the invented demo panel (idempotent)."""
    from bot.demo import seed_demo
    from bot.domain.common import SystemClock
    from storage import open_storage

    settings = _settings()

    async def run() -> int:
        storage = open_storage(settings.database_url)
        try:
            result = await seed_demo(storage.unit_of_work, SystemClock())
        finally:
            await storage.close()
        if result.created:
            made = ", ".join(f"{n} {what}" for what, n in result.counts.items())
            print(f"Demo panel created: {made}. Every name in it is invented.")
        else:
            print("Demo panel already present: nothing changed.")
        return 0

    return asyncio.run(run())


# Teams lists at most 12 commands per scope in its menu (manifest.MAX_COMMANDS_PER_SCOPE), and
# the build fails rather than cut a list. A scope's menu lists, in FEATURES' order, every
# command that answers there and is `in_manifest`, except those left out here on purpose:
# the personal menu leaves out `end` (the chair ends a meeting in its meeting chat, where
# it is listed) so that `actions`, a SPOC's daily command, is listed there: it used to be
# the thirteenth, cut without a word before the build failed instead.
MENU_LEFT_OUT: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {"personal": frozenset({"end"})}
)


def manifest_commands(
    router: Router | None = None, left_out: Mapping[str, frozenset[str]] = MENU_LEFT_OUT
) -> list[ManifestCommand]:
    """What each scope's Teams menu lists, from the router FEATURES build (or `router`):
    the `in_manifest` commands that answer in the scope, less the scope's `left_out`.
    ValueError when a command left out is not on that scope's menu anyway (a stale choice).
    """
    from bot.app import build_router
    from bot.domain.delivery import ConversationKind
    from manifest import ManifestCommand

    scope_of = {
        ConversationKind.PERSONAL: "personal",
        ConversationKind.CHANNEL: "team",
        ConversationKind.GROUP_CHAT: "groupChat",
    }
    specs = [spec for spec in (router or build_router()).commands() if spec.in_manifest]
    for scope, names in left_out.items():
        offered = {spec.name for spec in specs for k in spec.scopes if scope_of.get(k) == scope}
        if stale := sorted(names - offered):
            raise ValueError(
                f"{', '.join(stale)} is left out of the {scope} menu, which does not offer it"
            )
    return [
        ManifestCommand(
            title=spec.name,
            description=spec.summary[:128],
            scopes=tuple(
                scope
                for kind, scope in scope_of.items()
                if kind in spec.scopes and spec.name not in left_out.get(scope, frozenset())
            ),
        )
        for spec in specs
    ]


def cmd_manifest(args: argparse.Namespace) -> int:
    """Build the Teams app package zip, branded as the config file says (the demo's
    branding without one)."""
    from manifest import BrandingError, ManifestOptions, load_branding, write_package
    from manifest.branding import DEFAULT_PATH

    settings = _settings()
    app_id = args.app_id or settings.app_id
    if not app_id:
        sys.exit("Give the Azure Bot's app id: set APP_ID or pass --app-id.")
    domains = tuple(d for d in (args.domain or []) if d)
    try:
        branding = load_branding(args.config or DEFAULT_PATH)
        options = ManifestOptions.branded(
            app_id, branding, version=args.version, valid_domains=domains
        )
        path = write_package(Path(args.out), options, manifest_commands())
    except BrandingError as err:
        sys.exit(f"Cannot build the package: the branding file {err}")
    except ValueError as err:
        sys.exit(f"Cannot build the package: {err}")
    print(f"Teams app package for {branding.short_name} written to {path}")
    return 0


def cmd_cards(args: argparse.Namespace) -> int:
    """Write the card gallery: every card the bot can send, one JSON file each."""
    from bot.app import build_router
    from bot.gallery import gallery

    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    cards = gallery(build_router())
    for name, card in cards.items():
        (out / f"{name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(cards)} cards written to {out}")
    return 0


def cmd_reapply_erasures(_args: argparse.Namespace) -> int:
    """After a database restore: erase again everyone the erasure ledger says was erased."""
    from bot.domain.common import SystemClock
    from bot.features.records.dataprotection import erase_from_records
    from bot.features.records.erasure_ledger import ErasureLedger, reapply_erasures
    from storage import open_storage

    settings = _settings()
    ledger = ErasureLedger(settings.erasure_ledger) if settings.erasure_ledger else None
    if ledger is None or not ledger.path.exists():
        print(
            f"No erasure ledger at {ledger.path if ledger else '(none set)'}: only the "
            "database's own record of erasures is read (set ERASURE_LEDGER).",
            file=sys.stderr,
        )

    async def run() -> int:
        storage = open_storage(settings.database_url)
        try:
            report = await reapply_erasures(
                storage.unit_of_work, ledger, erase_from_records, SystemClock().now()
            )
        finally:
            await storage.close()
        print(report.line())
        return 0

    return asyncio.run(run())


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure the bot: turn latency against an echo bot, SQL per turn, fan-out, memory."""
    from bot.bench.run import run_from_args

    return run_from_args(args)


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    top = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = top.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the bot (default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--insecure-local-test",
        action="store_true",
        help="serve beyond loopback without APP_ID (no authentication): test machines only",
    )
    serve.set_defaults(run=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(run=cmd_migrate)
    sub.add_parser("seed-demo", help="create the invented demo panel").set_defaults(
        run=cmd_seed_demo
    )
    manifest = sub.add_parser("manifest", help="build the Teams app package zip")
    manifest.add_argument("--out", default="dist/community-marac.zip")
    manifest.add_argument("--app-id", help="defaults to APP_ID")
    manifest.add_argument(
        "--config",
        help="the branding file (TOML: names, publisher, https addresses, colour, icons); "
        "defaults to the demo's manifest/branding.toml",
    )
    manifest.add_argument("--version", help="MAJOR.MINOR.PATCH; else the config's, else 1.0.0")
    manifest.add_argument(
        "--domain", action="append", help="a valid domain (repeatable); else the config's"
    )
    manifest.set_defaults(run=cmd_manifest)
    cards = sub.add_parser("cards", help="write the card gallery as JSON files")
    cards.add_argument("outdir")
    cards.set_defaults(run=cmd_cards)
    sub.add_parser(
        "reapply-erasures",
        help="after a database restore, erase again what the erasure ledger records",
    ).set_defaults(run=cmd_reapply_erasures)
    bench = sub.add_parser("bench", help="measure the bot (see bot/bench/run.py)")
    bench.add_argument(
        "only",
        nargs="?",
        choices=["all", "matching"],
        default="all",
        help="matching: only the repeat-matching precision and recall (a second, no server)",
    )
    bench.add_argument("--quick", action="store_true", help="a run under two minutes")
    bench.add_argument("--json", help="also write the figures to this JSON file")
    bench.add_argument("--database-url", help="a PostgreSQL URL (default: SQLite files)")
    bench.set_defaults(run=cmd_bench)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Alembic announces each of its plugins at INFO on every start; that is noise here.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if getattr(args, "run", None) is None:
        args = parser().parse_args(["serve", *(argv or [])])
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
