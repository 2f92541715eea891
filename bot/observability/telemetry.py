"""OpenTelemetry metrics and traces: what the bot exports, where to, and the cheap calls
the turn and the reminder job make to feed them.

Exported when configured (`from_settings`): over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT,
and/or to Azure Monitor when APPLICATIONINSIGHTS_CONNECTION_STRING is set and its exporter
is installed (`pip install '.[azure]'`; without it, one log line and no Azure export).
Neither set: no Telemetry is made, and the turn's calls return at once.

Instruments (attributes never name a person: command and verb names, outcomes, kinds):
- `marac.turn.duration` (histogram, s): each turn, by `marac.command` (the registered
  command or card verb, or the activity type in brackets), `marac.outcome` (ok, refused,
  declined, failed, redelivered) and `marac.conversation` (personal, channel, ...);
- `marac.reminder.lag` (histogram, s): how long after its occasion first allowed it to go
  each reminder was queued, by `marac.reminder_kind`;
- `marac.outbox.due` and `marac.outbox.oldest_due_age` (gauges, sampled from storage every
  SAMPLE_EVERY seconds): cards due and not yet sent, and how long the oldest has been due;
- `marac.outbox.deliveries` (counter, by `marac.outcome`: sent, retried, timed_out, failed,
  unreachable) and `marac.outbox.throttled` (counter: the Bot Connector's 429s), read from
  the dispatcher's own counts;
- a span per turn, `turn <command>`, with the same attributes.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Final, Protocol

from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, StatusCode

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from datetime import datetime, timedelta

    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from bot.observability.logs import TurnLog
    from bot.settings import Settings

log = logging.getLogger(__name__)

NAME: Final = "community-marac-bot"
TURN_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 10)
LAG_BUCKETS: Final = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800)
# How often the outbox's backlog is counted for the gauges.
SAMPLE_EVERY: Final = 15.0
# Activity types named as such when a turn runs no command (anything else is "other", so
# that a made-up type cannot grow the metrics without bound).
_ACTIVITY_TYPES: Final = frozenset(
    {"message", "invoke", "conversationUpdate", "installationUpdate", "event", "messageReaction"}
)


class DeliveryCounts(Protocol):
    """What the outbox dispatcher counts (bot.teams.outbox.policy.DeliveryStats)."""

    sent: int
    retries: int
    timeouts: int
    failed: int
    unreachable: int
    throttled: int


class Backlog(Protocol):
    """What storage counts of the outbox (bot.kernel.ports.OutboxBacklog)."""

    @property
    def due(self) -> int: ...
    @property
    def oldest_due_at(self) -> datetime | None: ...


class OutboxWatch:
    """One dispatcher's counts and its storage's backlog, as the instruments read them."""

    def __init__(
        self,
        counts: DeliveryCounts,
        backlog: Callable[[datetime], Awaitable[Backlog]],
        now: Callable[[], datetime],
    ) -> None:
        self.counts = counts
        self._backlog = backlog
        self._now = now
        self.due: int | None = None
        self.oldest_due_age: float | None = None

    async def sample(self) -> None:
        """Count the backlog now (the gauges report the last count)."""
        now = self._now()
        found = await self._backlog(now)
        self.due = found.due
        oldest = found.oldest_due_at
        self.oldest_due_age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0

    async def run(self, every: float = SAMPLE_EVERY) -> None:
        """Sample every `every` seconds until cancelled; a failure is logged once a spell."""
        failing = False
        while True:
            try:
                await self.sample()
                failing = False
            except Exception as exc:  # the next sample tries again
                if not failing:
                    log.warning("outbox backlog not counted: %s", type(exc).__name__)
                failing = True
            await asyncio.sleep(every)


class Telemetry:
    """The bot's instruments on a meter and a tracer provider."""

    def __init__(
        self,
        meter_provider: MeterProvider,
        tracer_provider: TracerProvider,
        *,
        shutdown: Callable[[], None] | None = None,
    ) -> None:
        meter = meter_provider.get_meter(NAME)
        self._tracer = tracer_provider.get_tracer(NAME)
        self._shutdown = shutdown
        self._watches: list[OutboxWatch] = []
        self._turns = meter.create_histogram(
            "marac.turn.duration",
            unit="s",
            description="Time to handle one Teams activity, by command or verb and outcome",
            explicit_bucket_boundaries_advisory=TURN_BUCKETS,
        )
        self._lag = meter.create_histogram(
            "marac.reminder.lag",
            unit="s",
            description="How long after its occasion first allowed it a reminder was queued",
            explicit_bucket_boundaries_advisory=LAG_BUCKETS,
        )
        meter.create_observable_gauge(
            "marac.outbox.due",
            callbacks=[self._observe_due],
            unit="{message}",
            description="Cards due to be sent and not sent yet",
        )
        meter.create_observable_gauge(
            "marac.outbox.oldest_due_age",
            callbacks=[self._observe_age],
            unit="s",
            description="How long the oldest card due has been waiting",
        )
        meter.create_observable_counter(
            "marac.outbox.deliveries",
            callbacks=[self._observe_deliveries],
            unit="{message}",
            description="Delivery attempts by outcome",
        )
        meter.create_observable_counter(
            "marac.outbox.throttled",
            callbacks=[self._observe_throttled],
            unit="{response}",
            description="429 answers from the Bot Connector",
        )

    def watch(self, watch: OutboxWatch) -> Callable[[], None]:
        """Report this dispatcher and backlog; returns how to stop reporting them."""
        self._watches.append(watch)
        return lambda: self._watches.remove(watch)

    def span(self) -> AbstractContextManager[Span]:
        """A turn's span, current while the turn runs."""
        return self._tracer.start_as_current_span("turn", kind=SpanKind.SERVER)

    def turn_done(
        self, turn: TurnLog, activity_type: str, seconds: float, span: Span | None
    ) -> None:
        """Record a turn's latency (and its span's attributes) by command and outcome."""
        command = turn.command or (
            f"({activity_type})" if activity_type in _ACTIVITY_TYPES else "(other)"
        )
        attributes = {
            "marac.command": command,
            "marac.outcome": turn.outcome,
            "marac.conversation": turn.conversation or "unknown",
        }
        self._turns.record(seconds, attributes)
        if span is not None:
            span.update_name(f"turn {command}")
            span.set_attributes(attributes)
            if turn.outcome == "failed":
                span.set_status(StatusCode.ERROR)

    def reminder_queued(self, kind: str, lag: timedelta) -> None:
        """Record how late a reminder was queued."""
        self._lag.record(max(0.0, lag.total_seconds()), {"marac.reminder_kind": kind})

    def close(self) -> None:
        """Export what is left and stop the exporters."""
        if self._shutdown is not None:
            self._shutdown()

    def _observe_due(self, _options: CallbackOptions) -> Iterable[Observation]:
        due = [w.due for w in self._watches if w.due is not None]
        return [Observation(sum(due))] if due else []

    def _observe_age(self, _options: CallbackOptions) -> Iterable[Observation]:
        ages = [w.oldest_due_age for w in self._watches if w.oldest_due_age is not None]
        return [Observation(max(ages))] if ages else []

    def _observe_deliveries(self, _options: CallbackOptions) -> Iterable[Observation]:
        if not self._watches:
            return []
        totals = {
            "sent": sum(w.counts.sent for w in self._watches),
            "retried": sum(w.counts.retries for w in self._watches),
            "timed_out": sum(w.counts.timeouts for w in self._watches),
            "failed": sum(w.counts.failed for w in self._watches),
            "unreachable": sum(w.counts.unreachable for w in self._watches),
        }
        return [Observation(n, {"marac.outcome": outcome}) for outcome, n in totals.items()]

    def _observe_throttled(self, _options: CallbackOptions) -> Iterable[Observation]:
        if not self._watches:
            return []
        return [Observation(sum(w.counts.throttled for w in self._watches))]


def from_settings(settings: Settings) -> Telemetry | None:
    """The exporters the settings ask for, or None when nothing is to be exported."""
    readers = []
    processors = []
    if settings.otel_endpoint:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        base = settings.otel_endpoint
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(f"{base}/v1/metrics")))
        processors.append(BatchSpanProcessor(OTLPSpanExporter(f"{base}/v1/traces")))
        log.info("telemetry: metrics and traces go over OTLP/HTTP to %s", base)
    if settings.applicationinsights_connection_string:
        azure = _azure_monitor(settings.applicationinsights_connection_string)
        if azure is not None:
            readers.append(azure[0])
            processors.append(azure[1])
            log.info("telemetry: metrics and traces go to Azure Monitor")
    if not readers:
        return None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    resource = Resource.create({"service.name": settings.otel_service_name})
    meters = MeterProvider(metric_readers=readers, resource=resource, shutdown_on_exit=False)
    tracers = TracerProvider(resource=resource, shutdown_on_exit=False)
    for processor in processors:
        tracers.add_span_processor(processor)

    def shutdown() -> None:
        tracers.shutdown()
        meters.shutdown()

    return Telemetry(meters, tracers, shutdown=shutdown)


def _azure_monitor(connection_string: str) -> tuple[Any, Any] | None:
    """Azure Monitor's metric reader and span processor, or None (said once) when its
    exporter is not installed."""
    try:
        exporter = importlib.import_module("azure.monitor.opentelemetry.exporter")
    except ImportError:
        log.warning(
            "APPLICATIONINSIGHTS_CONNECTION_STRING is set but Azure Monitor's exporter is not "
            "installed (pip install '.[azure]'): nothing goes to Azure Monitor"
        )
        return None
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    return (
        PeriodicExportingMetricReader(
            exporter.AzureMonitorMetricExporter(connection_string=connection_string)
        ),
        BatchSpanProcessor(exporter.AzureMonitorTraceExporter(connection_string=connection_string)),
    )


# --- what the turn and the jobs call: nothing at all when no Telemetry is installed ----------

_current: Telemetry | None = None
_NO_SPAN: Final = nullcontext()


def install(telemetry: Telemetry | None) -> None:
    """Make `telemetry` the one the turn and the jobs record to (None: record nothing)."""
    global _current  # one per process, as logging's handlers are
    _current = telemetry


def current() -> Telemetry | None:
    """The installed Telemetry, if any."""
    return _current


def turn_span() -> AbstractContextManager[Span | None]:
    """The turn's span, or a shared do-nothing context when nothing is exported."""
    telemetry = _current
    return _NO_SPAN if telemetry is None else telemetry.span()


def turn_done(turn: TurnLog, activity_type: str, seconds: float, span: Span | None) -> None:
    """Record a finished turn (nothing when nothing is exported)."""
    telemetry = _current
    if telemetry is not None:
        telemetry.turn_done(turn, activity_type, seconds, span)


def reminder_queued(kind: str, lag: timedelta) -> None:
    """Record how late a reminder was queued (nothing when nothing is exported)."""
    telemetry = _current
    if telemetry is not None:
        telemetry.reminder_queued(kind, lag)
