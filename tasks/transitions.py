"""What the outside world knows of each transition of a task, declared once, on its method.

``@declared`` sits on a ``@transition`` method of ``Task`` and gives it its action name (the
API's and the rules' name for it), the side that may perform it, the history event it
records and whether it needs a comment. ``tasks.rules``, ``tasks.services``, the API's list
of transitions and ``EventAction`` all read ``TRANSITIONS``: a new transition is one
decorated method and its test. Nothing here imports the models, which import this module.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise


class Side(StrEnum):
    """Who may act on a task (``tasks.rules.may``). The issuing side (heads of the issuing
    unit) assigns, verifies, returns, suspends, cancels and decides extensions; the
    responsible side (members of the lead and responsible units) signs for, reports on and
    submits the work."""

    ISSUER = "issuer"
    RESPONSIBLE = "responsible"
    RESPONSIBLE_HEAD = "responsible_head"
    ISSUER_OR_SUPERVISOR = "issuer_or_supervisor"
    # Members of the lead unit alone: it, not a responsible unit beside it, decides whether
    # the item is its own (returning it, asking for its transfer).
    LEAD = "lead"


@dataclass(frozen=True)
class TaskTransition:
    # The action's name in the API and in the rules; "return" is the method ``send_back``,
    # ``return`` being a Python keyword.
    name: str
    method: str
    side: Side
    # The history event: its value in ``TaskEvent.action`` and its label.
    event: str
    label: Promise
    needs_comment: bool = False

    @property
    def event_member(self) -> str:
        """The event's member name in ``EventAction`` ("returned" → ``RETURNED``)."""
        return self.event.upper()


# In declaration order, which is the order of the methods on ``Task``: the API lists the
# transitions and ``EventAction`` its choices in this order.
TRANSITIONS: dict[str, TaskTransition] = {}


def declared(
    name: str, *, side: Side, event: str, label: Promise, needs_comment: bool = False
) -> Callable[[Callable], Callable]:
    """Register the decorated ``@transition`` method under ``name``."""

    def register(method: Callable) -> Callable:
        if name in TRANSITIONS or any(t.event == event for t in TRANSITIONS.values()):
            raise ImproperlyConfigured(f"Transition {name!r} or event {event!r} is declared twice.")
        TRANSITIONS[name] = TaskTransition(
            name=name,
            method=method.__name__,
            side=side,
            event=event,
            label=label,
            needs_comment=needs_comment,
        )
        return method

    return register
