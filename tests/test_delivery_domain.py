"""An outbox row's lifecycle: claimed, tried again, handed back untried, taken back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.delivery import DeliveryState, OutgoingDelivery
from bot.domain.errors import InvalidTransition

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


def queued() -> OutgoingDelivery:
    return OutgoingDelivery(panel_id="p", key="k", payload={}, not_before=NOW, created_at=NOW)


def test_a_claim_records_when_the_row_was_taken() -> None:
    delivery = queued()
    delivery.claim(NOW)
    assert (delivery.state, delivery.attempts, delivery.claimed_at) == (
        DeliveryState.SENDING,
        1,
        NOW,
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        queued().claim(datetime(2026, 11, 20, 10))  # noqa: DTZ001 (naive on purpose: it must be refused)


def test_each_send_of_a_claimed_row_counts_as_an_attempt() -> None:
    delivery = queued()
    delivery.claim(NOW)
    delivery.try_again()
    delivery.try_again()
    delivery.sent(201, NOW)
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 3)
    with pytest.raises(InvalidTransition):
        delivery.try_again()


def test_a_row_handed_back_untried_does_not_count_an_attempt() -> None:
    delivery = queued()
    delivery.claim(NOW)
    delivery.release(NOW + timedelta(seconds=30))
    assert (delivery.state, delivery.attempts, delivery.not_before) == (
        DeliveryState.PENDING,
        0,
        NOW + timedelta(seconds=30),
    )


def test_a_row_taken_back_from_a_stopped_dispatcher_is_counted() -> None:
    delivery = queued()
    delivery.claim(NOW)
    delivery.resume()
    delivery.claim(NOW + timedelta(minutes=3))
    assert (delivery.state, delivery.resumed, delivery.attempts) == (DeliveryState.SENDING, 1, 2)
    with pytest.raises(InvalidTransition):
        queued().resume()  # only a row being sent can be taken back
