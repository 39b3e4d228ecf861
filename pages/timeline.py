"""One timeline of a task for its page: the history, with each report's figures and
evidence and each extension beside the event that recorded it, and the ladder's rungs.

Presentation only: the rows come from the selectors, and their order is their time."""

from dataclasses import dataclass
from datetime import datetime

from tasks.models import EventAction, RecheckResult


@dataclass
class Entry:
    at: datetime
    kind: str  # "event" or "escalation"
    label: str
    actor: object
    comment: str = ""
    report: object = None
    extension: object = None
    escalation: object = None
    # A report's figures as (indicator, value) pairs.
    figures: tuple = ()


def _figures(report, indicators) -> tuple:
    if report is None:
        return ()
    return tuple((indicators.get(int(pk)), value) for pk, value in report.figures.items())


def _label(event) -> str:
    label = EventAction(event.action).label
    if event.action == EventAction.RECHECKED and event.data.get("result") in RecheckResult.values:
        return f"{label}：{RecheckResult(event.data['result']).label}"
    return label


def task_timeline(events, reports, extensions, escalations, indicators) -> list[Entry]:
    """``indicators``: the task's indicators by id, to name a report's figures."""
    reports_by_id = {report.pk: report for report in reports}
    extensions_by_id = {extension.pk: extension for extension in extensions}
    entries = [
        Entry(
            at=event.at,
            kind="event",
            label=_label(event),
            actor=event.actor,
            comment=event.comment,
            report=reports_by_id.get(event.data.get("report")),
            figures=_figures(reports_by_id.get(event.data.get("report")), indicators),
            # The request, with its decision form, beside the event that asked for it.
            extension=extensions_by_id.get(event.data.get("extension"))
            if event.action == EventAction.EXTENSION_REQUESTED
            else None,
        )
        for event in events
    ]
    entries += [
        Entry(
            at=escalation.created_at,
            kind="escalation",
            label=escalation.get_level_display(),
            actor=escalation.actor,
            comment=escalation.reason,
            escalation=escalation,
        )
        for escalation in escalations
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)
