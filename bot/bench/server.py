"""The bot as the benchmark runs it: its own process, the real app plus the echo baseline.

`python -m bot.bench.server --database-url URL [--schema S]` serves the real app (what
`python -m bot serve` serves: local mode, the outbox dispatcher running) on a free loopback
port, with the echo bot (bot.bench.echo) beside it on the same server, and prints
`PORT <n>` once it listens. It runs until stdin closes or it is terminated.

A process of its own so that its peak memory is the bot's alone, and so that the load
generator and the fake connector do not share the bot's event loop (or its core).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from aiohttp import web

from bot.app import create_app
from bot.bench.echo import add_echo_route
from bot.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Sequence


async def serve(database_url: str, schema: str | None) -> None:
    """Serve until SIGTERM or SIGINT."""
    settings = Settings(database_url=database_url, log_level="WARNING")
    storage = None
    if schema is not None:
        from storage import open_storage

        storage = open_storage(database_url, schema=schema)
    app = create_app(settings, storage=storage)
    add_echo_route(app, settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if storage is not None:
            await storage.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.server", description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--schema", default=None, help="PostgreSQL schema of the tables")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve(args.database_url, args.schema))
    return 0


if __name__ == "__main__":
    sys.exit(main())
