"""What the connector's answers mean for an outbox row: the one rule the dispatcher follows
for sends, updates and opening a chat (bot.domain.delivery.verdict)."""

from __future__ import annotations

import pytest

from bot.domain.delivery import RETRYABLE, Request, Verdict, verdict

SEND, OPEN, UPDATE = Request.SEND, Request.OPEN_CHAT, Request.UPDATE


@pytest.mark.parametrize(
    ("status", "request_", "personal", "reopened", "expected"),
    [
        # Passing failures, whatever was asked: precondition failed, throttled, bad gateway,
        # no answer at all (503), and an answer too late (504).
        (412, SEND, True, False, Verdict.RETRY),
        (429, SEND, False, False, Verdict.RETRY),
        (429, UPDATE, False, False, Verdict.RETRY),
        (429, OPEN, True, False, Verdict.RETRY),
        (502, SEND, True, True, Verdict.RETRY),
        (503, OPEN, True, False, Verdict.RETRY),
        (504, UPDATE, False, False, Verdict.RETRY),
        # Blocked by the person or turned off by the admin: nobody to send to.
        (403, SEND, True, False, Verdict.UNREACHABLE),
        (403, SEND, False, False, Verdict.UNREACHABLE),
        (403, OPEN, True, False, Verdict.UNREACHABLE),
        (403, UPDATE, False, False, Verdict.UNREACHABLE),
        # 404 on a member's chat: open a new one, once; then the member is unreachable.
        (404, SEND, True, False, Verdict.REOPEN_CHAT),
        (404, SEND, True, True, Verdict.UNREACHABLE),
        (404, OPEN, True, False, Verdict.UNREACHABLE),
        # 404 on a shared chat: it is forgotten, and nobody there can be reached.
        (404, SEND, False, False, Verdict.CHAT_GONE),
        # 404 on an update: the message is gone; the chat is left as it is.
        (404, UPDATE, False, False, Verdict.GIVE_UP),
        (404, UPDATE, True, False, Verdict.GIVE_UP),
        # Anything else will not get better by asking again.
        (400, SEND, True, False, Verdict.GIVE_UP),
        (401, SEND, True, False, Verdict.GIVE_UP),
        (409, UPDATE, False, False, Verdict.GIVE_UP),
        (413, SEND, False, False, Verdict.GIVE_UP),
        (500, SEND, True, False, Verdict.GIVE_UP),
        (501, OPEN, True, False, Verdict.GIVE_UP),
    ],
)
def test_each_answer_means_one_thing_for_the_row(
    status: int, request_: Request, personal: bool, reopened: bool, expected: Verdict
) -> None:
    assert verdict(status, request_, personal=personal, reopened=reopened) is expected


def retried_statuses() -> set[int]:
    """Every 4xx and 5xx status some request is retried after."""
    return {
        status
        for status in range(400, 600)
        for request in Request
        for personal in (True, False)
        if verdict(status, request, personal=personal) is Verdict.RETRY
    }


def test_only_throttling_passing_gateway_failures_and_no_answer_are_retried() -> None:
    assert retried_statuses() == RETRYABLE == {412, 429, 502, 503, 504}
