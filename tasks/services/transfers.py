"""转办: the lead unit asks, before signing for a task, that it go to another unit, and the
issuing side decides. Returning an item to its issuer (退回) is a transition
(``Task.return_to_issuer``) and goes through ``task_transition``."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.errors import Conflict, InvalidInput, InvalidTransition
from responsibility import jurisdiction
from responsibility.models import Unit, User

from .. import rules
from ..lateness import today
from ..models import EventAction, TaskState, TaskUnit, TaskUnitRole, TransferRequest
from ..obligations import obligations_transferred
from ..scope import scope_rebuild
from .common import event_record, locked_request, locked_task, require_text


def _ensure_target(task, to_unit: Unit) -> None:
    """The named unit is another than the lead unit, within the issuer's jurisdiction (the
    rule by which the issuer handed the task down in the first place)."""
    if to_unit.pk == task.lead_unit_id:
        message = _("转办单位不能是本单位。")
        raise InvalidInput(message, code="same_unit", fields={"to_unit": [message]})
    jurisdiction.ensure_reaches(
        task.issuing_unit, {"to_unit": [to_unit]}, through_task=task.parent_id is not None
    )


def transfer_request_create(*, task_id: int, actor: User, to_unit: Unit, reason: str) -> TransferRequest:
    """Ask, as a member of the lead unit and before signing for the task, that the issuer
    hand it to ``to_unit``. The sign-for stays owed, on its date, until the issuer approves."""
    reason = require_text(reason, "reason", _("请填写转办理由。"))
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        rules.ensure_may(access, task, "request_transfer")
        rules.ensure_state(task, "request_transfer", _("只有尚未签收的任务可以申请转办。"))
        _ensure_target(task, to_unit)
        try:
            with transaction.atomic():
                transfer = TransferRequest.objects.create(
                    task=task,
                    requested_by=actor,
                    from_unit_id=task.lead_unit_id,
                    to_unit=to_unit,
                    reason=reason,
                )
        except IntegrityError:
            raise Conflict(_("该任务已有待审批的转办申请。"), code="transfer_pending") from None
        event_record(
            task,
            actor,
            EventAction.TRANSFER_REQUESTED,
            from_state=task.state,
            to_state=task.state,
            comment=reason,
            data={"transfer": transfer.pk, "from_unit": task.lead_unit_id, "to_unit": to_unit.pk},
        )
    return transfer


def _hand_over(task, to_unit: Unit) -> None:
    """Make ``to_unit`` the lead unit: its link replaces the old lead's (a unit that was
    cooperating becomes responsible), and the responsible person, who answered for the old
    unit, is cleared for the new unit to name its own."""
    old_lead_id = task.lead_unit_id
    TaskUnit.objects.filter(task=task, unit_id__in=[old_lead_id, to_unit.pk]).delete()
    TaskUnit.objects.create(task=task, unit=to_unit, role=TaskUnitRole.RESPONSIBLE)
    task.lead_unit = to_unit
    task.responsible_person = None
    task.save(update_fields=["lead_unit", "responsible_person", "updated_at"])
    scope_rebuild([task.pk])


def transfer_decide(*, transfer_id: int, actor: User, approve: bool, comment: str = "") -> TransferRequest:
    """Approve (the named unit leads the task, with a new sign-for window from today) or
    refuse (a reason is required; the asking unit still owes the sign-for by its date).

    The request's task is locked first, like every write to a task, then the request; a
    request of a task the actor cannot see is missing (404)."""
    if not approve:
        comment = require_text(comment, "comment", _("不同意转办须说明理由。"))
    with transaction.atomic():
        task, _access, transfer = locked_request(
            TransferRequest, transfer_id, actor, "decide_transfer", "to_unit"
        )
        method = transfer.approve if approve else transfer.refuse
        if not can_proceed(method):
            raise InvalidTransition(_("该转办申请已处理。"))
        data = {"transfer": transfer.pk, "from_unit": transfer.from_unit_id, "to_unit": transfer.to_unit_id}
        if approve:
            if task.state != TaskState.ASSIGNED:
                raise InvalidTransition(_("任务已签收、退回或撤销，不能转办。"))
            # The tree may have moved since the request: the rule is checked as of now.
            _ensure_target(task, transfer.to_unit)
        method(by=actor, comment=comment)
        transfer.save()
        if approve:
            _hand_over(task, transfer.to_unit)
            data["sign_for_due"] = str(obligations_transferred(task, today()))
        event_record(
            task,
            actor,
            EventAction.TRANSFER_APPROVED if approve else EventAction.TRANSFER_REFUSED,
            from_state=task.state,
            to_state=task.state,
            comment=comment,
            data=data,
        )
    return transfer
