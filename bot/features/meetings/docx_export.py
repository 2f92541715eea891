"""Approved minutes as a Word document (.docx), written with python-docx.

Title, the day the meeting was held, its sign-offs (who, in which role, on which day),
attendance table, then per case: reference, summary, the decision and what went with it
(risk level, lead agency and officer) and an actions table; then the unmet actions'
outcomes and any other business. The document is marked OFFICIAL-SENSITIVE: it holds case
detail and goes only to attending members entitled to it.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from docx import Document
from docx.shared import Pt

from bot.domain.minutes import Minutes, day_label

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docx.document import Document as DocumentObject

MARKING = "OFFICIAL-SENSITIVE: shared under the panel's information sharing agreement"
TABLE_STYLE = "Table Grid"


def _table(
    document: DocumentObject, header: Sequence[str] | None, rows: Sequence[Sequence[str]]
) -> None:
    """A table; with a header, a bold first row; without, each row's first cell bold."""
    width = len(header) if header is not None else len(rows[0])
    table = document.add_table(rows=0, cols=width)
    table.style = TABLE_STYLE
    if header is None:
        for label, *rest in rows:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(label).bold = True
            for cell, text in zip(cells[1:], rest, strict=True):
                cell.text = text
        return
    first = table.add_row().cells
    for cell, text in zip(first, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text


def minutes_docx(minutes: Minutes, panel_name: str, timezone: str = "Europe/London") -> bytes:
    """The minutes as the bytes of a .docx file; dates in the panel's time zone."""
    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(11)
    document.core_properties.title = f"Minutes: {panel_name}, {minutes.meeting_label}"
    document.core_properties.subject = "Community MARAC minutes"
    header = document.sections[0].header.paragraphs[0]
    header.text = MARKING

    document.add_heading(f"{panel_name}: minutes", level=0)
    document.add_paragraph(f"Meeting: {minutes.meeting_label}")
    zone = ZoneInfo(timezone)
    if minutes.approved and minutes.approved_at is not None:
        by = f" by {minutes.approved_by}" if minutes.approved_by else ""
        approved_on = minutes.approved_at.astimezone(zone).date()
        document.add_paragraph(f"Approved{by} on {day_label(approved_on)}.")
    else:
        document.add_paragraph("Draft: not approved yet.")
    if minutes.signatures:
        document.add_heading("Signed off", level=1)
        _table(
            document,
            ("Name", "Role", "Date"),
            [
                (s.name, s.role.value.capitalize(), day_label(s.at.astimezone(zone).date()))
                for s in minutes.signatures
            ],
        )

    document.add_heading("Attendance", level=1)
    if minutes.attendance:
        _table(
            document,
            ("Agency", "Attended"),
            [(line.agency, ", ".join(line.people)) for line in minutes.attendance],
        )
    else:
        document.add_paragraph("Nobody acknowledged the confidentiality statement.")

    document.add_heading("Cases", level=1)
    if not minutes.cases:
        document.add_paragraph("No case was on the agenda.")
    for case in minutes.cases:
        kind = "review" if case.review else "new case"
        document.add_heading(f"{case.reference} ({kind})", level=2)
        document.add_paragraph(case.summary or "No summary recorded.")
        _table(
            document,
            None,
            [
                ("Decision", case.decision or "None recorded"),
                ("Risk level", case.risk_level),
                ("Lead agency", case.lead_agency or "not nominated"),
                ("Lead officer", case.lead_officer or "not named"),
            ],
        )
        document.add_paragraph()
        if case.actions:
            _table(
                document,
                ("Action", "Owner", "Due by"),
                [(a.description, a.owner, day_label(a.due_on)) for a in case.actions],
            )
        else:
            document.add_paragraph("No actions agreed.")

    document.add_heading("Unmet actions from earlier meetings", level=1)
    if minutes.unmet:
        _table(
            document,
            ("Case", "Action", "Owner", "Outcome"),
            [(u.reference, u.description, u.owner, u.outcome) for u in minutes.unmet],
        )
    else:
        document.add_paragraph("None.")

    if minutes.other_business:
        document.add_heading("Any other business", level=1)
        for title in minutes.other_business:
            document.add_paragraph(title, style="List Bullet")

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
