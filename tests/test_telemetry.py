"""OpenTelemetry metrics and traces (bot/observability/telemetry.py) read with the SDK's
in-memory reader and span exporter, through the real app: turns by command, outcome and
chat with their latency and a span each, the outbox's backlog, deliveries and 429s, the
reminders' lag; and a real OTLP/HTTP export to a receiver on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bot.app import OUTBOX_WATCH, create_app
from bot.demo import seed_demo
from bot.domain.reminders import ReminderSchedule
from bot.features.actions import reminders
from bot.features.actions.reminders import ReminderConfig
from bot.kernel import notify
from bot.observability import telemetry as metrics
from bot.observability.telemetry import Telemetry, from_settings
from bot.settings import Settings
from cards.kit import build, paragraph
from tests.support import activities as acts
from tests.support.world import AAD, BotUnderTest, demo_world, serve

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from bot.domain.common import FixedClock
    from bot.kernel.ports import Storage
    from tests.conftest import Connector

CARD = build([paragraph("Your action is due on Monday.")])
# Ids of people: none may appear in any attribute of any metric or span.
PEOPLE_IDS = tuple(AAD.values())


@dataclass
class Exported:
    """A Telemetry whose metrics and spans stay in memory for the test to read."""

    telemetry: Telemetry
    reader: InMemoryMetricReader
    spans: InMemorySpanExporter

    def points(self, name: str) -> list[Any]:
        """The data points of one metric, as the reader collects them now."""
        data = self.reader.get_metrics_data()
        found = []
        for resource in data.resource_metrics if data else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(metric.data.data_points)
        return found

    def by(self, name: str, *keys: str) -> dict[tuple[Any, ...], Any]:
        """A metric's data points keyed by the values of the given attributes."""
        return {tuple(p.attributes.get(k) for k in keys): p for p in self.points(name)}


@pytest.fixture
def exported() -> Iterator[Exported]:
    reader = InMemoryMetricReader()
    spans = InMemorySpanExporter()
    meters = MeterProvider(metric_readers=[reader], shutdown_on_exit=False)
    tracers = TracerProvider(shutdown_on_exit=False)
    tracers.add_span_processor(SimpleSpanProcessor(spans))
    yield Exported(Telemetry(meters, tracers), reader, spans)
    tracers.shutdown()
    meters.shutdown()


@pytest.fixture
async def bot(
    sqlite_storage: Storage, connector: Connector, clock: FixedClock, exported: Exported
) -> AsyncIterator[BotUnderTest]:
    """The real app on the demo panel, reporting to `exported`."""
    await seed_demo(sqlite_storage.unit_of_work, clock)
    app = create_app(
        Settings(),
        storage=sqlite_storage,
        clock=clock,
        deliver_in_background=False,
        telemetry=exported.telemetry,
    )
    client = await serve(app)
    try:
        yield BotUnderTest(client, connector.fake, connector.url, sqlite_storage)
    finally:
        await client.close()
    assert metrics.current() is None, "the app left its telemetry installed"


def no_person_in(attributes: Any) -> None:
    for value in dict(attributes or {}).values():
        assert not any(person in str(value) for person in PEOPLE_IDS), attributes


async def say(bot: BotUnderTest, text: str, aad: str = acts.PRIYA, **kw: Any) -> None:
    response = await bot.post(acts.personal_message(bot.service_url, text, aad=aad, **kw))
    assert response.status in (200, 201)


async def test_turns_are_counted_and_timed_by_command_outcome_and_chat(
    bot: BotUnderTest, exported: Exported
) -> None:
    await say(bot, "help")
    await say(bot, "help")
    await say(bot, "case CM-2026-099")  # no such case: declined with a plain message
    await say(bot, "agenda", aad=acts.STRANGER, name="Sam Stranger")  # on no panel: refused
    await bot.post(acts.channel_message(bot.service_url, "help"))
    twice = acts.personal_message(bot.service_url, "whoami", activity_id="act-telemetry-1")
    await bot.post(twice)
    await bot.post(twice)  # Teams delivers it again
    turns = exported.by(
        "marac.turn.duration", "marac.command", "marac.outcome", "marac.conversation"
    )
    assert turns[("help", "ok", "personal")].count == 2
    assert turns[("case", "declined", "personal")].count == 1
    assert turns[("agenda", "refused", "personal")].count == 1
    assert turns[("help", "ok", "channel")].count == 1
    assert turns[("whoami", "ok", "personal")].count == 1
    assert turns[("(message)", "redelivered", "personal")].count == 1
    assert sum(p.count for p in turns.values()) == 7
    for point in turns.values():
        assert point.sum > 0
        assert point.explicit_bounds[0] == metrics.TURN_BUCKETS[0]  # seconds, not ms
        no_person_in(point.attributes)


async def test_each_turn_has_a_span_named_for_its_command(
    bot: BotUnderTest, exported: Exported
) -> None:
    await say(bot, "help")
    await say(bot, "case CM-2026-014")
    spans = exported.spans.get_finished_spans()
    assert [s.name for s in spans] == ["turn help", "turn case"]
    for span in spans:
        assert span.kind is SpanKind.SERVER
        assert span.attributes is not None
        assert span.attributes["marac.conversation"] == "personal"
        assert span.end_time is not None and span.start_time is not None
        assert span.end_time > span.start_time
        no_person_in(span.attributes)
    assert spans[1].attributes is not None
    assert spans[1].attributes["marac.command"] == "case"


async def queue(bot: BotUnderTest, keys: list[str], at: datetime) -> None:
    """Cards for Gemma (Housing's SPOC), queued at `at`."""
    async with bot.storage.unit_of_work() as uow:
        (gemma,) = await uow.members.memberships(acts.GEMMA)
        for key in keys:
            assert await notify.card_to_member(
                uow, panel_id=gemma.panel_id, member_id=gemma.id, card=CARD, key=key, now=at
            )
        await uow.commit()


async def test_the_outbox_backlog_deliveries_and_429s_are_reported(
    bot: BotUnderTest, exported: Exported, clock: FixedClock
) -> None:
    await say(bot, "help", aad=acts.GEMMA, name="Gemma Hartley")  # the bot knows her chat
    watch = bot.client.app[OUTBOX_WATCH]
    await watch.sample()
    assert exported.points("marac.outbox.due")[0].value == 0
    now = clock.now()
    await queue(bot, ["telemetry:1"], now - timedelta(minutes=10))
    await queue(bot, ["telemetry:2", "telemetry:3"], now - timedelta(minutes=2))
    await queue(bot, ["telemetry:later"], now + timedelta(hours=1))  # not due yet
    await watch.sample()
    assert exported.points("marac.outbox.due")[0].value == 3
    assert exported.points("marac.outbox.oldest_due_age")[0].value == 600.0

    bot.connector.failures = [429]  # the first send is throttled, then tried again
    assert await bot.deliver() == 3
    await watch.sample()
    assert exported.points("marac.outbox.due")[0].value == 0
    assert exported.points("marac.outbox.oldest_due_age")[0].value == 0.0
    deliveries = exported.by("marac.outbox.deliveries", "marac.outcome")
    assert deliveries[("sent",)].value == 3
    assert deliveries[("retried",)].value == 1
    assert deliveries[("failed",)].value == 0
    (throttled,) = exported.points("marac.outbox.throttled")
    assert throttled.value == 1


async def test_reminders_report_how_late_they_were_queued(exported: Exported) -> None:
    """Housing's action on CM-2026-013 is due Mon 7 Dec 2026; its reminder three days
    before may go from Fri 4 Dec, 08:00 (quiet hours end): the job runs at 10:00."""
    world = await demo_world()
    actions_only = ReminderConfig(
        schedule=ReminderSchedule(
            status_days_before_meeting=None, info_days_before_due=None, info_on_due_date=False
        )
    )
    world.clock.advance(datetime.combine(date(2026, 12, 4), time(10), tzinfo=UTC))
    metrics.install(exported.telemetry)
    try:
        report = await reminders.run_due(world.deps, config=actions_only)
    finally:
        metrics.install(None)
    assert report.reminders >= 1
    lag = exported.by("marac.reminder.lag", "marac.reminder_kind")
    assert sum(p.count for p in lag.values()) == report.reminders
    before = lag[("before",)]
    assert (before.count, before.sum) == (1, 2 * 3600.0)
    # Adult Social Care's action was due Sun 15 Nov: its overdue reminder every three days
    # came on Thu 3 Dec, and the job runs only now, 26 hours after 08:00 that day.
    overdue = lag[("overdue",)]
    assert (overdue.count, overdue.sum) == (1, 26 * 3600.0)


async def test_nothing_is_recorded_when_nothing_is_exported() -> None:
    metrics.install(None)
    metrics.reminder_queued("before", timedelta(minutes=5))  # no Telemetry: no error
    with metrics.turn_span() as span:
        assert span is None


def test_without_an_endpoint_nothing_is_exported() -> None:
    assert from_settings(Settings()) is None


def test_azure_monitor_without_its_exporter_is_skipped_with_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(applicationinsights_connection_string="InstrumentationKey=invented")
    assert from_settings(settings) is None
    (line,) = [r for r in caplog.records if "APPLICATIONINSIGHTS" in r.getMessage()]
    assert line.levelno == logging.WARNING
    assert "InstrumentationKey=invented" not in line.getMessage()


class Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector: keeps each request's path and body."""

    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []
    handler = type("Collected", (Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


async def test_otlp_export_sends_the_turns_metrics_and_spans_to_the_endpoint(
    sqlite_storage: Storage,
    connector: Connector,
    clock: FixedClock,
    collector: tuple[str, list[tuple[str, str, bytes]]],
) -> None:
    endpoint, received = collector
    await seed_demo(sqlite_storage.unit_of_work, clock)
    settings = Settings(otel_endpoint=endpoint, otel_service_name="marac-test")
    app = create_app(settings, storage=sqlite_storage, clock=clock, deliver_in_background=False)
    client = await serve(app)
    running = BotUnderTest(client, connector.fake, connector.url, sqlite_storage)
    await say(running, "help")
    await client.close()  # shutting down exports what is left
    paths = {path for path, _, _ in received}
    assert paths == {"/v1/metrics", "/v1/traces"}
    assert all(kind == "application/x-protobuf" for _, kind, _ in received)
    names: set[str] = set()
    spans: list[str] = []
    for path, _, body in received:
        if path == "/v1/metrics":
            request = ExportMetricsServiceRequest.FromString(body)
            for resource in request.resource_metrics:
                service = {a.key: a.value.string_value for a in resource.resource.attributes}
                assert service["service.name"] == "marac-test"
                names |= {m.name for s in resource.scope_metrics for m in s.metrics}
        else:
            traces = ExportTraceServiceRequest.FromString(body)
            spans += [
                span.name
                for resource in traces.resource_spans
                for scope in resource.scope_spans
                for span in scope.spans
            ]
    assert "marac.turn.duration" in names
    assert spans == ["turn help"]
