"""Every verb a card button can carry, in one enum."""

from __future__ import annotations

from enum import StrEnum

# The card data key carrying the version of the record (action, information request,
# meeting, referral, minutes) a card was rendered from: a click from an older rendering is
# refused (bot.kernel.versions), however long after the change it comes.
VERSION_KEY = "version"
# The card data key naming the meeting a button acts on (the guard reads it to check the
# meeting is this chat's own: bot.kernel.guard.DATA_KEYS).
MEETING_KEY = "meeting_id"
# The keys a card's data names what it concerns by: the cards write them, the guard
# (bot.kernel.guard.DATA_KEYS) and the features read them.
REFERENCE_KEY = "reference"  # a case's or referral's reference, e.g. CM-2026-014
REFERRAL_ID_KEY = "referral_id"
ACTION_ID_KEY = "action_id"
REQUEST_ID_KEY = "request_id"
AGENCY_ID_KEY = "agency_id"
MEMBER_ID_KEY = "member_id"
# The card data key naming which shared view a card's refresh asks for (bot.kernel.views).
VIEW_KEY = "view"


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
    TRIAGE_PLAN_MEETINGS = "triage.plan_meetings"

    # --- information requests (an agency's SPOC) ------------------------------------
    INFO_ANSWER = "info.answer"

    # --- calendar (the coordinator) --------------------------------------------------
    SCHEDULE_MOVE = "schedule.move"
    SCHEDULE_CANCEL = "schedule.cancel"
    SCHEDULE_URGENT = "schedule.urgent"

    # --- governance: agreement, members, agencies, cases, audit ---------------------
    ISA_ACCEPT = "isa.accept"
    # The person's own memberships: choose the panel to act for; accept or decline an
    # invitation (the handler touches only the caller's own membership rows).
    PANEL_CHOOSE = "panel.choose"
    PANEL_JOIN = "panel.join"
    PANEL_DECLINE = "panel.decline"
    ISA_SAVE = "isa.save"
    MEMBERS_LIST = "members.list"
    MEMBERS_ADD = "members.add"
    SETUP_AGENCY = "setup.agency"
    MEMBERS_EDIT = "members.edit"
    MEMBERS_SAVE = "members.save"
    MEMBERS_REMOVE = "members.remove"
    MEMBERS_RESTORE = "members.restore"
    AGENCIES_ADD = "agencies.add"
    AGENCIES_KIND = "agencies.kind"
    AUDIT_PAGE = "audit.page"
    INFO_OPEN = "info.open"

    # --- meeting: the agenda (coordinator), running it (chair), the minutes ------------
    AGENDA_MOVE_UP = "agenda.move_up"
    AGENDA_MOVE_DOWN = "agenda.move_down"
    AGENDA_ADD_OTHER = "agenda.add_other"
    AGENDA_ADD_CASE = "agenda.add_case"
    AGENDA_REMOVE = "agenda.remove"
    AGENDA_DEFER = "agenda.defer"
    AGENDA_PUBLISH = "agenda.publish"
    MEETING_ACKNOWLEDGE = "meeting.acknowledge"
    MEETING_ACCEPT_ISA = "meeting.accept_isa"
    MEETING_CHAIR = "meeting.chair"
    MEETING_NEXT = "meeting.next"
    MEETING_BACK = "meeting.back"
    MEETING_CAPTURE = "meeting.capture"
    MEETING_LEAD = "meeting.lead"
    MEETING_RISK = "meeting.risk"
    MEETING_REVIEW = "meeting.review"
    MEETING_CLOSE = "meeting.close"
    MEETING_REOPEN = "meeting.reopen"
    MEETING_SUMMARY = "meeting.summary"
    MEETING_CARRY = "meeting.carry"
    MEETING_ESCALATE = "meeting.escalate"
    MEETING_CANCEL_ACTION = "meeting.cancel_action"
    MEETING_END = "meeting.end"
    MINUTES_EDIT = "minutes.edit"
    MINUTES_APPROVE = "minutes.approve"
    # The approved minutes as a Word file: Teams' file consent answer (the invoke
    # fileConsent/invoke, which carries no verb: bot.teams.handler gives it this one), a copy
    # for the reader, the file offered again, the panel's download links off or on.
    MINUTES_FILE = "minutes.file"
    MINUTES_OFFER = "minutes.offer"
    MINUTES_OFFER_AGAIN = "minutes.offer_again"
    MINUTES_LINKS = "minutes.links"

    # --- data protection and reports (the coordinator; stats also the chair) ------------
    DP_SAR_FIND = "dp.sar_find"
    DP_ERASE_PREVIEW = "dp.erase_preview"
    DP_ERASE_CONFIRM = "dp.erase_confirm"
    STATS_QUARTER = "stats.quarter"

    # --- the caseload (the coordinator and the chair) ------------------------------------
    CASES_PAGE = "cases.page"

    # --- actions: the owner agency's SPOC or deputy answers its action cards ------------
    ACTION_DONE = "action.done"
    ACTION_UPDATE = "action.update"
    ACTION_CANT = "action.cant"

    # --- shared views: each reader's own view of a card in a shared chat (bot.kernel.views)
    VIEW_REFRESH = "view.refresh"


# Verbs Teams sends without a button: the answer to a file consent card (bot.teams.handler).
INVOKE_VERBS = frozenset({Verb.MINUTES_FILE})
