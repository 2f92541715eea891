"""`python -m bot bench` runs end to end on a tiny configuration and writes every figure.

Only the shape of the output is checked: the figures themselves depend on the machine, and
the benchmark reports them against aims rather than asserting them.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import TYPE_CHECKING

import pytest

from bot.__main__ import parser
from bot.bench import queueing
from bot.bench.run import KEYS, TINY, format_table, run_from_args

if TYPE_CHECKING:
    from pathlib import Path


def test_a_tiny_bench_writes_every_figure_as_a_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    args = argparse.Namespace(quick=True, json=str(out), database_url=None, only="all")

    assert run_from_args(args, TINY) == 0

    figures = json.loads(out.read_text())
    for key in KEYS:
        assert isinstance(figures[key], int | float), key
        assert not math.isnan(figures[key]), key
    assert figures["fanout_lost"] == 0
    assert figures["fanout_duplicates"] == 0
    assert figures["sql_per_turn_small"] >= 1
    assert figures["peak_rss_mb"] > 10
    assert figures["turn_p50_ratio"] > 0
    assert figures["details"]["turns"]["bot"]["invoke"]["n"] > 0
    # The burst: every attendee answered, and each acknowledgement recorded exactly once.
    burst = figures["details"]["burst"]
    assert burst["answered"] == burst["attendees"] == TINY.burst_attendees
    assert burst["attendance_rows"] == burst["distinct_attendees"] == TINY.burst_attendees
    assert burst["audit_events"] == TINY.burst_attendees
    assert figures["burst_ack_p99_ms"] >= burst["p50_ms"] > 0
    assert figures["notes"] == [], figures["notes"]  # no request failed, nothing logged
    printed = capsys.readouterr().out
    for key in KEYS:
        assert key in printed


def test_bench_matching_prints_and_writes_precision_and_recall(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bot bench matching`: the invented pairs judged, in a second, no server."""
    out = tmp_path / "matching.json"
    args = parser().parse_args(["bench", "matching", "--json", str(out)])
    assert args.only == "matching"
    assert args.run(args) == 0
    figures = json.loads(out.read_text())
    assert figures["matching_pairs"] >= 200
    assert figures["matching_recall"] >= 0.95
    assert figures["matching_precision"] >= 0.8
    printed = capsys.readouterr().out
    assert "recall" in printed
    assert "precision" in printed


def test_the_command_line_offers_the_bench_with_its_options() -> None:
    args = parser().parse_args(["bench", "--quick", "--json", "out.json"])
    assert args.quick is True
    assert args.json == "out.json"
    assert args.database_url is None
    assert args.run.__name__ == "cmd_bench"


def test_the_table_marks_each_aim_met_or_missed() -> None:
    from bot.bench.run import Report

    report = Report(
        figures={
            "turn_p50_ratio": 2.5,
            "invoke_p99_ms": 120.0,
            "sql_per_turn_small": 13.0,
            "sql_per_turn_large": 13.0,
            "peak_rss_mb": 150.0,
        },
        details={"config": "test", "backend": "SQLite"},
    )
    lines = {line.split()[0]: line for line in format_table(report).splitlines()[1:6]}
    assert lines["turn_p50_ratio"].endswith("MISSED")
    assert lines["invoke_p99_ms"].endswith("met")
    assert lines["sql_per_turn_small"].endswith("met")


def test_a_burst_with_an_acknowledgement_missing_or_recorded_twice_misses_its_aim() -> None:
    from bot.bench.burst import BurstResult

    whole = BurstResult(
        latencies=[0.1, 0.2], attendees=2, attendance_rows=2, distinct_attendees=2, audit_events=2
    )
    assert whole.recorded_once
    assert whole.p99_ms() == pytest.approx(200.0)
    assert not BurstResult(
        latencies=[0.1, 0.2], attendees=2, attendance_rows=1, distinct_attendees=1, audit_events=1
    ).recorded_once
    assert not BurstResult(
        latencies=[0.1, 0.2], attendees=2, attendance_rows=2, distinct_attendees=2, audit_events=3
    ).recorded_once
    assert not BurstResult(
        latencies=[0.1],
        errors=["x: HTTP 500"],
        attendees=2,
        attendance_rows=2,
        distinct_attendees=2,
        audit_events=2,
    ).recorded_once


def test_bench_queueing_prints_the_cost_of_naming_the_panel_on_queued_cards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m bot.bench.queueing`: both ways measured in one run; naming the panel and
    stamping the buttons costs two statements per unit of work, whatever the fan-out."""
    out = tmp_path / "queueing.json"
    assert queueing.main(["--cards", "30", "--rounds", "1", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert figures["queue_named_statements"] == figures["queue_baseline_statements"] + 2
    assert figures["queue_baseline_statements"] == 30  # one insert a card
    assert figures["queue_named_ratio"] > 0 and not math.isnan(figures["queue_named_ratio"])
    assert "queue_named_ratio" in capsys.readouterr().out
