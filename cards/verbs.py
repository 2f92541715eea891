"""Every verb a card button can carry, in one enum."""

from __future__ import annotations

from enum import StrEnum


class Verb(StrEnum):
    # Runs a typed command from a button, as if the person had typed it.
    COMMAND = "command"

    # --- referral intake (the referrer) ---------------------------------------------
    REFER_NEXT = "refer.next"
    REFER_BACK = "refer.back"
    REFER_SAVE = "refer.save"
    REFER_SUBMIT = "refer.submit"
    REFER_ADD_SUBJECT = "refer.add_subject"
    REFER_REMOVE_SUBJECT = "refer.remove_subject"
    REFER_DISCARD = "refer.discard"
    REFER_ANSWER = "refer.answer"
    REFER_ADD_CHILD = "refer.add_child"
    REFER_REMOVE_CHILD = "refer.remove_child"
    REFER_OPEN = "refer.open"

    # --- triage (the coordinator) ----------------------------------------------------
    TRIAGE_ACCEPT = "triage.accept"
    TRIAGE_ASK = "triage.ask"
    TRIAGE_DECLINE = "triage.decline"

    # --- information requests (an agency's SPOC) ------------------------------------
    INFO_ANSWER = "info.answer"

    # --- calendar (the coordinator) --------------------------------------------------
    SCHEDULE_MOVE = "schedule.move"
    SCHEDULE_CANCEL = "schedule.cancel"
