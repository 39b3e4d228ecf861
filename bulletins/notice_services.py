"""Writes of 督办通知单: issuing one (a number, a rung of the ladder, the 回执 owed),
rendering and mailing its PDF, and recording the unit's 回执."""

import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound
from core.jobs import enqueue_on_commit
from notifications.services import escalation_record_issued, escalations_withdraw
from outbox.services import outbox_store
from responsibility import jurisdiction
from responsibility.models import Membership, Role, Unit, UnitKind, User, ancestor_paths
from responsibility.selectors import Access
from tasks import obligations
from tasks.lateness import today as local_today
from tasks.models import OPEN_STATES, EventAction, ObligationKind, Task
from tasks.rungs import Level
from tasks.services.common import event_record, locked_task, require_text

from .models import Notice, NoticeCounter, NoticeUrgency
from .numbering import next_number
from .render import notice_html, render_pdf, sha256

# The rung each urgency takes on the ladder: a blue slip warns before the deadline, a
# yellow one chases, a red one lists the item (挂牌督办).
URGENCY_LEVEL = {
    NoticeUrgency.PROMPT: Level.REMINDER,
    NoticeUrgency.URGE: Level.OVERDUE,
    NoticeUrgency.LISTED: Level.LISTED,
}


def may_issue(access: Access, office: Unit, task: Task) -> bool:
    """A notice is the supervision office's, issued by its supervisors or head, about an
    item of the level it acts for: one whose lead or issuing unit lies within that level
    (``jurisdiction.level_path``), as the office supervises it."""
    if office.kind != UnitKind.SUPERVISION_OFFICE:
        return False
    if not (access.is_admin or access.has_role(office.pk, Role.SUPERVISOR, Role.HEAD)):
        return False
    level = jurisdiction.level_path(office)
    return any(unit.path.startswith(level) for unit in (task.lead_unit, task.issuing_unit))


def _office_for(access: Access, task: Task, office: Unit | None) -> Unit:
    """The office named, or else the nearest office over the task's lead or issuing unit
    that the caller may issue for (any of them, for an administrator)."""
    if office is None:
        levels = {
            path
            for unit in (task.lead_unit, task.issuing_unit)
            for path in (*ancestor_paths(unit.path), unit.path)
        }
        candidates = Unit.objects.filter(kind=UnitKind.SUPERVISION_OFFICE, parent__path__in=levels)
        if not access.is_admin:
            own = [unit_id for unit_id, roles in access.roles.items() if roles & {Role.SUPERVISOR, Role.HEAD}]
            candidates = candidates.filter(pk__in=own)
        office = next(
            (unit for unit in candidates.order_by("-depth", "pk") if may_issue(access, unit, task)), None
        )
        if office is None:
            raise Forbidden(_("督办通知单由对该事项有督查职责的督查室签发。"), code="not_a_notice_issuer")
    if not may_issue(access, office, task):
        message = _("%(office)s不能就该事项签发督办通知单：须由督查该事项的督查室签发。") % {
            "office": office.name
        }
        raise Forbidden(message, code="not_a_notice_issuer", fields={"office": [message]})
    return office


def _ensure_reply_by(reply_by: datetime.date, today: datetime.date) -> None:
    if reply_by < today:
        message = _("回执报送时限不能早于今天。")
        raise InvalidInput(message, code="reply_by_past", fields={"reply_by": [message]})
    if reply_by > today + datetime.timedelta(days=366):
        message = _("回执报送时限不能晚于一年之后。")
        raise InvalidInput(message, code="reply_by_too_late", fields={"reply_by": [message]})


def notice_issue(
    *,
    actor: User,
    task_id: int,
    urgency: str,
    request: str,
    reply_by: datetime.date,
    office: Unit | None = None,
) -> Notice:
    """Issue a numbered notice about an open task: the office's next number for the year,
    the rung of its urgency recorded on the ladder (told by the notice itself), the 回执
    owed by the lead unit by ``reply_by``, and a line in the task's history. The PDF is
    rendered and mailed to the unit by a job once this commits."""
    request = require_text(request, "request", _("请填写督办要求。"))
    if urgency not in NoticeUrgency.values:
        message = _("督办类别无效。")
        raise InvalidInput(message, code="invalid_urgency", fields={"urgency": [message]})
    today = local_today()
    _ensure_reply_by(reply_by, today)
    with transaction.atomic():
        task, access = locked_task(task_id, actor)
        task = Task.objects.select_related("lead_unit", "issuing_unit").get(pk=task.pk)
        office = _office_for(access, task, office)
        if task.state not in OPEN_STATES:
            raise InvalidTransition(_("只能对未办结的事项签发督办通知单。"))
        notice = Notice.objects.create(
            office=office,
            year=today.year,
            number=next_number(NoticeCounter, office, today.year),
            task=task,
            to_unit=task.lead_unit,
            urgency=urgency,
            request=request,
            due_date=task.due_date,
            reply_by=reply_by,
            issued_on=today,
            issued_by=actor,
        )
        title = _("督办通知单%(number)s") % {"number": notice.numbering}
        notice.escalation = escalation_record_issued(
            task=task, actor=actor, level=URGENCY_LEVEL[urgency], reason=f"{title}：{request}"
        )
        notice.obligation = obligations.obligation_open(
            task,
            kind=ObligationKind.REPLY,
            key=str(notice.pk),
            label=str(_("%(title)s回执") % {"title": title}),
            owed_by_id=task.lead_unit_id,
            due_date=reply_by,
        )
        notice.save(update_fields=["escalation", "obligation"])
        event_record(
            task,
            actor,
            EventAction.NOTICE_ISSUED,
            comment=request,
            data={
                "notice": notice.pk,
                "office": office.pk,
                "number": notice.numbering,
                "urgency": urgency,
                "reply_by": reply_by.isoformat(),
            },
        )
        enqueue_on_commit("bulletins.jobs.notice_render", notice.pk)
    return notice


def _recipients(notice: Notice) -> tuple[list[Unit], list[User]]:
    """Whom the notice goes to: the unit, its heads and the item's responsible person."""
    heads = [
        membership.user
        for membership in Membership.objects.filter(unit=notice.to_unit, role=Role.HEAD)
        .select_related("user")
        .order_by("user_id")
    ]
    person = notice.task.responsible_person
    users = heads + ([person] if person is not None and person not in heads else [])
    return [notice.to_unit], users


def notice_render(*, notice_id: int) -> Notice:
    """Render the notice's PDF once, record its checksum and mail it to the unit; the
    messages are the telling of the notice's rung. Running it again changes nothing."""
    notice = Notice.objects.select_related("office", "to_unit", "task", "task__responsible_person").get(
        pk=notice_id
    )
    if notice.pdf:
        return notice
    pdf, _refused = render_pdf(notice_html(notice))
    with transaction.atomic():
        locked = Notice.objects.select_for_update().filter(pk=notice.pk).values("pdf", "withdrawn_at").get()
        if locked["pdf"]:
            return Notice.objects.get(pk=notice.pk)  # a concurrent run finished first
        notice.pdf.save(f"{notice.number}.pdf", ContentFile(pdf), save=False)
        # Marked withdrawn if it was when read; withdrawn since, ``notice_render_withdrawn``
        # (queued by the withdrawal, or the pending run) renders it again.
        notice.pdf_sha256, notice.pdf_withdrawn = sha256(pdf), notice.is_withdrawn
        notice.save(update_fields=["pdf", "pdf_sha256", "pdf_withdrawn"])
        if locked["withdrawn_at"] is not None:
            return notice  # withdrawn before its job ran: the unit is told of the withdrawal only
        units, users = _recipients(notice)
        task = notice.task
        item = _item_name(task)
        name = f"{notice.office.name}督办通知单{notice.numbering}"
        body = _(
            "%(unit)s：\n\n%(office)s就“%(item)s”（完成时限 %(due)s）签发%(urgency)s督办通知单"
            "%(number)s，请查收附件，按要求办理，并于%(reply_by)s前通过督办系统或将回执报送%(office)s。"
            "\n\n督办要求：%(request)s\n\n%(office)s\n%(issued)s"
        ) % {
            "unit": notice.to_unit.name,
            "office": notice.office.name,
            "item": item,
            "due": notice.due_date.isoformat(),
            "urgency": notice.get_urgency_display(),
            "number": notice.numbering,
            "reply_by": notice.reply_by.isoformat(),
            "request": notice.request,
            "issued": notice.issued_on.isoformat(),
        }
        messages = outbox_store(
            kind="notice",
            units=units,
            users=users,
            subject=f"【{notice.get_urgency_display()}】{name}：{item}"[:300],
            body_text=str(body),
            attachment_path=notice.pdf.name,
            attachment_name=f"督办通知单{notice.numbering}.pdf",
        )
        if notice.escalation_id:
            notice.escalation.messages.add(*messages)
    return notice


def notice_render_reply(*, notice_id: int) -> Notice:
    """Render the PDF again once the 回执 is in, its part filled with what the unit
    returned, who returned it and when, and mail it, as at issue, to the issuing office as
    well as to the unit, its heads and the item's responsible person: the office files the
    回执 it asked for, the unit keeps the copy it returned. The file mailed at issue stays
    as it was sent (the outbox's messages name it). Running it again changes nothing."""
    notice = Notice.objects.select_related(
        "office", "to_unit", "task", "task__responsible_person", "replied_by"
    ).get(pk=notice_id)
    if not notice.is_replied or notice.pdf_replied:
        return notice
    pdf, _refused = render_pdf(notice_html(notice))
    with transaction.atomic():
        stored = _store_rendered_again(notice, pdf, "reply", "pdf_replied")
        if stored is not notice:
            return stored  # a concurrent run finished first
        # Stored with the flag, in one transaction: mailed once, whoever runs it again.
        _mail_reply(notice)
    return notice


def _store_rendered_again(notice: Notice, pdf: bytes, suffix: str, flag: str) -> Notice:
    """Store the notice's PDF rendered again (outside any transaction: a render takes
    seconds) with ``flag`` (``pdf_replied``, ``pdf_withdrawn``) set, under the row's lock,
    inside the caller's transaction. Answers the notice, or the locked row if a concurrent
    run set the flag first and nothing was stored."""
    locked = Notice.objects.select_for_update().get(pk=notice.pk)
    if getattr(locked, flag):
        return locked
    notice.pdf.save(f"{notice.number}-{suffix}.pdf", ContentFile(pdf), save=False)
    notice.pdf_sha256 = sha256(pdf)
    setattr(notice, flag, True)
    notice.save(update_fields=["pdf", "pdf_sha256", flag])
    return notice


def _item_name(task: Task) -> str:
    """The item as a notice's e-mails name it: its number and title on one line (a header
    holds no line break)."""
    return " ".join((f"{task.number} {task.title}" if task.number else task.title).split())


def _mail_reply(notice: Notice) -> None:
    units, users = _recipients(notice)
    task = notice.task
    item = _item_name(task)
    replied_by = notice.replied_by.full_name or notice.replied_by.username
    facts = {
        "office": notice.office.name,
        "unit": notice.to_unit.name,
        "name": f"{notice.office.name}督办通知单{notice.numbering}",
        "number": notice.numbering,
        "item": item,
        "issued": notice.issued_on.isoformat(),
        "replied": timezone.localtime(notice.replied_at, timezone.get_default_timezone()).strftime(
            "%Y-%m-%d %H:%M"
        ),
        "replied_by": replied_by,
        "measures": notice.reply_measures,
        "signer": notice.reply_signer,
        "reply_date": notice.reply_date.isoformat(),
    }
    # The e-mail goes out in the office's language, whoever's request or job sends it.
    with translation.override(settings.LANGUAGE_CODE):
        subject = str(_("【回执】%(name)s：%(item)s") % facts)
        promise = _("已于%(reply_date)s完成") if notice.reply_completed else _("承诺于%(reply_date)s前完成")
        body = str(
            _(
                "%(office)s、%(unit)s：\n\n%(unit)s已于%(replied)s（北京时间）经督办系统报送%(office)s"
                "%(issued)s就“%(item)s”签发的督办通知单%(number)s的回执（报送人：%(replied_by)s，"
                "签发人：%(signer)s），%(promise)s。附件为填入回执的通知单。\n\n办理情况及措施：%(measures)s"
            )
            % {**facts, "promise": promise % facts}
        )
    outbox_store(
        kind="notice",
        units=[notice.office, *units],
        users=users,
        subject=subject[:300],
        body_text=body,
        attachment_path=notice.pdf.name,
        attachment_name=f"督办通知单{notice.numbering}（回执）.pdf",
    )


def notice_render_withdrawn(*, notice_id: int) -> Notice:
    """Render the PDF of a withdrawn notice again, marked 已撤销 with the day and the
    reason above the notice, its number as it was: whoever opens the file, downloaded or
    kept from the e-mail of issue, reads that it no longer stands. Mails nothing (the
    withdrawal told the unit). Running it again changes nothing."""
    notice = Notice.objects.select_related("office", "to_unit", "task").get(pk=notice_id)
    if not notice.is_withdrawn or notice.pdf_withdrawn:
        return notice
    if not notice.pdf:
        # Its job of issue never ran: rendered once, marked already, and not mailed.
        notice = notice_render(notice_id=notice.pk)
        if notice.pdf_withdrawn:
            return notice
        notice = Notice.objects.select_related("office", "to_unit", "task").get(pk=notice_id)
    pdf, _refused = render_pdf(notice_html(notice))
    with transaction.atomic():
        return _store_rendered_again(notice, pdf, "withdrawn", "pdf_withdrawn")


def notice_pdfs_for_obligations(obligation_ids: list[int]) -> dict[int, tuple[str, str]]:
    """The PDF of each notice whose 回执 owed is among ``obligation_ids``, for the ladder's
    digests that chase it: one query for all of them; a notice whose PDF was never
    rendered (its job did not run) is rendered, and mailed as at issue, once here. A
    withdrawn notice is owed nothing and carries nothing."""
    notices = list(
        Notice.objects.filter(obligation_id__in=obligation_ids, withdrawn_at__isnull=True).only(
            "pk", "obligation_id", "year", "number", "pdf"
        )
    )
    documents = {}
    for notice in notices:
        if not notice.pdf:
            notice = notice_render(notice_id=notice.pk)
        documents[notice.obligation_id] = (notice.pdf.name, f"督办通知单{notice.numbering}.pdf")
    return documents


def notices_render_pending() -> int:
    """Render and mail every notice whose job never ran (the broker was down), render
    again (and mail) every replied notice whose PDF does not print its 回执 yet, and every
    withdrawn notice whose PDF is not marked withdrawn yet."""
    pending = list(Notice.objects.filter(pdf="").values_list("pk", flat=True))
    for notice_id in pending:
        notice_render(notice_id=notice_id)
    replied = list(
        Notice.objects.filter(replied_at__isnull=False, pdf_replied=False).values_list("pk", flat=True)
    )
    for notice_id in replied:
        notice_render_reply(notice_id=notice_id)
    withdrawn = list(
        Notice.objects.filter(withdrawn_at__isnull=False, pdf_withdrawn=False).values_list("pk", flat=True)
    )
    for notice_id in withdrawn:
        notice_render_withdrawn(notice_id=notice_id)
    return len(pending) + len(replied) + len(withdrawn)


def may_reply(access: Access, notice: Notice) -> bool:
    """The 回执 is the unit's: a member or head of the unit the notice went to, or of the
    item's lead unit now."""
    return access.is_admin or access.is_member_of_any({notice.to_unit_id, notice.task.lead_unit_id})


def notice_reply(
    *,
    notice_id: int,
    actor: User,
    measures: str,
    reply_date: datetime.date,
    completed: bool,
    signer: str,
) -> Notice:
    """Record the unit's 回执: what it did, the date it finished or promises to finish,
    and who signed. Meets the 回执 owed and appends it to the task's history; a notice has
    one 回执."""
    measures = require_text(measures, "measures", _("请填写办理情况及措施。"))
    signer = require_text(signer, "signer", _("请填写签发人。"))
    today = local_today()
    if completed and reply_date > today:
        message = _("已完成的日期不能晚于今天。")
        raise InvalidInput(message, code="completed_in_future", fields={"reply_date": [message]})
    if not completed and reply_date < today:
        message = _("承诺完成的日期不能早于今天。")
        raise InvalidInput(message, code="promised_in_past", fields={"reply_date": [message]})
    with transaction.atomic():
        try:
            task_id = Notice.objects.values_list("task_id", flat=True).get(pk=notice_id)
        except Notice.DoesNotExist:
            raise NotFound() from None
        task, access = locked_task(task_id, actor)
        notice = Notice.objects.select_for_update(of=("self",)).select_related("task").get(pk=notice_id)
        if not may_reply(access, notice):
            raise Forbidden(_("回执由承办单位报送。"), code="not_the_receiving_unit")
        if notice.is_withdrawn:
            raise Conflict(_("该督办通知单已撤销，无需报送回执。"), code="notice_withdrawn")
        if notice.is_replied:
            raise Conflict(_("该督办通知单已报送回执。"), code="notice_replied")
        notice.reply_measures, notice.reply_date, notice.reply_completed = measures, reply_date, completed
        notice.reply_signer, notice.replied_by, notice.replied_at = signer, actor, timezone.now()
        notice.save(
            update_fields=[
                "reply_measures",
                "reply_date",
                "reply_completed",
                "reply_signer",
                "replied_by",
                "replied_at",
            ]
        )
        obligations.obligation_met(task, kind=ObligationKind.REPLY, key=str(notice.pk))
        event_record(
            task,
            actor,
            EventAction.NOTICE_REPLIED,
            comment=measures,
            data={
                "notice": notice.pk,
                "number": notice.numbering,
                "reply_date": reply_date.isoformat(),
                "completed": completed,
                "signer": signer,
            },
        )
        enqueue_on_commit("bulletins.jobs.notice_render_reply", notice.pk)
    return notice


def notice_withdraw(*, notice_id: int, actor: User, reason: str) -> Notice:
    """Withdraw (撤销) a notice its office issued, for a reason: the notice stays, marked
    withdrawn, and its number stays used (numbers are never given again); the 回执 is no
    longer owed, so the ladder stops chasing it; the rung the notice took is closed, the
    task's rung falling back to what still stands (``escalations_withdraw``); the unit and
    the people it went to are told by e-mail; the task's history records it; its PDF is
    rendered again marked withdrawn by a job once this commits. Only those who may issue
    for the notice's office about this item withdraw it (``may_issue``), and only while no
    回执 has come back."""
    reason = require_text(reason, "reason", _("请填写撤销理由。"))
    with transaction.atomic():
        try:
            task_id = Notice.objects.values_list("task_id", flat=True).get(pk=notice_id)
        except Notice.DoesNotExist:
            raise NotFound() from None
        task, access = locked_task(task_id, actor)
        task = Task.objects.select_related("lead_unit", "issuing_unit", "responsible_person").get(pk=task.pk)
        notice = Notice.objects.select_for_update(of=("self",)).select_related("office", "to_unit")
        notice = notice.get(pk=notice_id)
        notice.task = task
        if not may_issue(access, notice.office, task):
            raise Forbidden(_("督办通知单只能由签发它的督查室撤销。"), code="not_the_notice_issuer")
        if notice.is_withdrawn:
            raise Conflict(_("该督办通知单已撤销。"), code="notice_withdrawn")
        if notice.is_replied:
            raise Conflict(_("该督办通知单已报送回执，不能撤销。"), code="notice_replied")
        notice.withdrawn_at, notice.withdrawn_by, notice.withdraw_reason = timezone.now(), actor, reason
        notice.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
        obligations.obligation_met(task, kind=ObligationKind.REPLY, key=str(notice.pk))
        # The rung the notice took no longer stands, nor any chase of its 回执 not yet told.
        escalations_withdraw(
            task=task,
            escalation_ids=[notice.escalation_id] if notice.escalation_id else [],
            obligation_ids=[notice.obligation_id] if notice.obligation_id else [],
        )
        event_record(
            task,
            actor,
            EventAction.NOTICE_WITHDRAWN,
            comment=reason,
            data={"notice": notice.pk, "office": notice.office_id, "number": notice.numbering},
        )
        units, users = _recipients(notice)
        item = _item_name(task)
        name = f"{notice.office.name}督办通知单{notice.numbering}"
        facts = {
            "unit": notice.to_unit.name,
            "office": notice.office.name,
            "issued": notice.issued_on.isoformat(),
            "item": item,
            "name": name,
            "number": notice.numbering,
            "reason": reason,
            "today": local_today().isoformat(),
        }
        # The e-mail goes out in the office's language, whoever's request withdraws it.
        with translation.override(settings.LANGUAGE_CODE):
            subject = str(_("【撤销】%(name)s：%(item)s") % facts)
            body = str(
                _(
                    "%(unit)s：\n\n%(office)s于%(issued)s就“%(item)s”签发的督办通知单%(number)s已撤销，"
                    "无需再报送回执。\n\n撤销理由：%(reason)s\n\n%(office)s\n%(today)s"
                )
                % facts
            )
        outbox_store(kind="notice", units=units, users=users, subject=subject[:300], body_text=body)
        enqueue_on_commit("bulletins.jobs.notice_render_withdrawn", notice.pk)
    return notice
