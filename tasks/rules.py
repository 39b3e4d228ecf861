"""Who may do what to a task: the one place these rules are written.

Services call ``ensure_may`` before changing anything; the transitions listing calls
``may`` to show a caller only what they could do. Seeing a task is a separate question,
answered by ``tasks.selectors.task_visibility_q``.
"""

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from core.errors import Forbidden, InvalidTransition
from responsibility import jurisdiction
from responsibility.models import Role, Unit
from responsibility.selectors import Access

from .models import TRANSITIONS, UNFINISHED_STATES, Side, Task, TaskState, TaskUnitRole

# Transitions carry their side in their declaration (``tasks.transitions``); the other
# actions on a task are listed here.
ACTIONS: dict[str, Side] = {
    **{name: transition.side for name, transition in TRANSITIONS.items()},
    "edit": Side.ISSUER,
    "report": Side.RESPONSIBLE,
    "complete_step": Side.RESPONSIBLE,
    "request_extension": Side.RESPONSIBLE,
    "decide_extension": Side.ISSUER,
    "decompose": Side.RESPONSIBLE_HEAD,
    # 回头看: the issuing unit owes the re-check (``tasks.obligations``) and records it.
    "recheck": Side.ISSUER,
    "request_transfer": Side.LEAD,
    "decide_transfer": Side.ISSUER,
    # The asking unit (``tasks.services.transfer_withdraw``), the lead unit while it waits.
    "withdraw_transfer": Side.LEAD,
}

# The states in which each action that is not a transition can be taken; a transition's
# states are its ``@transition`` source. The services refuse the action in any other state
# (``ensure_state``), and the pages offer it only in these (``actions_available``).
ACTION_STATES: dict[str, tuple[str, ...]] = {
    "edit": UNFINISHED_STATES,
    "report": (TaskState.IN_PROGRESS,),
    "complete_step": (TaskState.IN_PROGRESS,),
    "request_extension": (TaskState.ASSIGNED, TaskState.IN_PROGRESS),
    "decompose": (TaskState.ASSIGNED, TaskState.IN_PROGRESS),
    "recheck": (TaskState.CLOSED,),
    # Before signing for it: once signed for, the item is the unit's own.
    "request_transfer": (TaskState.ASSIGNED,),
    "decide_transfer": (TaskState.ASSIGNED,),
}


def responsible_unit_ids(task: Task) -> Iterator[int]:
    """The lead unit first, then the other responsible units. Lazy: when the lead unit
    decides, the links are not read (``Task.links``)."""
    yield task.lead_unit_id
    for link in task.links():
        if link.role == TaskUnitRole.RESPONSIBLE and link.unit_id != task.lead_unit_id:
            yield link.unit_id


def is_issuer(access: Access, task: Task) -> bool:
    return access.is_admin or access.is_head_of(task.issuing_unit_id)


def is_responsible(access: Access, task: Task) -> bool:
    return access.is_member_of_any(responsible_unit_ids(task))


def decomposing_unit_id(access: Access, task: Task) -> int | None:
    """The responsible unit the caller heads, through which they split the task."""
    for unit_id in responsible_unit_ids(task):
        if access.has_role(unit_id, Role.HEAD):
            return unit_id
    return None


def may(access: Access, task: Task, action: str) -> bool:
    side = ACTIONS[action]
    if side == Side.ISSUER:
        return is_issuer(access, task)
    if side == Side.RESPONSIBLE:
        return is_responsible(access, task)
    if side == Side.RESPONSIBLE_HEAD:
        return decomposing_unit_id(access, task) is not None
    if side == Side.LEAD:
        return access.is_member_of_any([task.lead_unit_id])
    if side == Side.ISSUER_OR_SUPERVISOR:
        return is_issuer(access, task) or access.supervises(task.issuing_unit)
    raise KeyError(action)


def ensure_may(access: Access, task: Task, action: str) -> None:
    if not may(access, task, action):
        raise Forbidden(_("您无权对该任务执行此操作。"))


def ensure_state(task: Task, action: str, message) -> None:
    """Refuse ``action`` (409 ``invalid_transition``) when the task is not in one of its states."""
    if task.state not in ACTION_STATES[action]:
        raise InvalidTransition(message)


def actions_available(access: Access, task: Task) -> list[str]:
    """The actions that are not transitions the caller may take on the task now, by its
    state and their side: what a page offers beside the transitions
    (``tasks.services.task_available_transitions``). Deciding an extension or a transfer is
    offered per pending request, so neither is among them."""
    return [
        action
        for action, states in ACTION_STATES.items()
        if action not in ("edit", "decide_transfer") and task.state in states and may(access, task, action)
    ]


def may_escalate(access: Access, task: Task) -> bool:
    """Recording a rung by hand (催办, 挂牌督办, 约谈, 问责) is the supervision office's: the
    office over the lead unit or over the issuing unit."""
    return access.is_admin or access.supervises(task.lead_unit) or access.supervises(task.issuing_unit)


def ensure_may_escalate(access: Access, task: Task) -> None:
    if not may_escalate(access, task):
        raise Forbidden(_("只有督查室可以记录督办。"))


def may_register_source(access: Access, unit: Unit) -> bool:
    """Registering where work comes from (立项登记) is the office's and the unit's heads':
    a head of the unit, or a supervisor of a supervision office registering for it."""
    return access.is_admin or access.has_role(unit.pk, Role.HEAD, Role.SUPERVISOR)


def ensure_may_register_source(access: Access, unit: Unit) -> None:
    if not may_register_source(access, unit):
        message = _("只有本单位负责人或督查室可以登记任务来源。")
        raise Forbidden(message, code="not_a_source_registrar", fields={"registered_by": [message]})


def ensure_source_serves(source, issuing_unit: Unit) -> None:
    """A source becomes work issued within the reach of the unit that registered it (its own
    subtree, or the level an office acts for: ``responsibility.jurisdiction``), the unit
    itself included: a city office's 批示 is issued by the city or below it, never by a
    county of another city."""
    registered_by = source.registered_by
    if issuing_unit.pk != registered_by.pk and not issuing_unit.path.startswith(
        jurisdiction.reach_path(registered_by)
    ):
        message = _("该来源由%(unit)s登记，%(issuer)s不能据此下达任务。") % {
            "unit": registered_by.name,
            "issuer": issuing_unit.name,
        }
        raise Forbidden(message, code="outside_jurisdiction", fields={"source": [message]})
