"""The fan-out benchmark runs end to end: every reminder arrives, none twice.

Only counts are asserted; the throughput it prints depends on the machine.
"""

from __future__ import annotations

from bot.bench.fanout import QUICK_SPOCS, format_table, main, run_fanout


async def test_the_quick_fan_out_loses_nothing_and_sends_nothing_twice() -> None:
    figures = await run_fanout(QUICK_SPOCS)

    assert figures["fanout_lost"] == 0
    assert figures["fanout_duplicates"] == 0
    assert figures["fanout_unsent_rows"] == 0
    assert figures["fanout_messages"] == QUICK_SPOCS
    assert set(figures) >= {
        "fanout_rate_fraction",
        "fanout_lost",
        "fanout_duplicates",
        "peak_rss_mb",
    }
    table = format_table(figures, QUICK_SPOCS, 50, "SQLite")
    assert "sent twice" in table
    assert "peak RSS" in table


def test_the_benchmark_refuses_nonsense_on_its_command_line() -> None:
    import pytest

    with pytest.raises(SystemExit):
        main(["--spocs", "many"])
