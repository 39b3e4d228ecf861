"""Writes of bulletins: drafting, editing, publishing (freeze, render, mail), withdrawing."""

import datetime

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import can_proceed

from core.errors import Forbidden, InvalidInput, InvalidTransition
from core.jobs import enqueue_on_commit
from outbox.services import outbox_store
from responsibility import jurisdiction
from responsibility.models import Unit, User
from responsibility.selectors import access_for_user

from . import figures as content
from .models import Bulletin, BulletinCounter, BulletinState
from .numbering import next_number
from .render import bulletin_html, render_pdf, sha256

EDITABLE = {
    "title",
    "kind",
    "campaign",
    "period_start",
    "period_end",
    "issued_on",
    "distribution_scope",
    "printed_on",
    "intro",
    "closing",
}


STATE_REFUSED = _("通报当前状态不允许此操作。")


def may_edit(actor: User, issuer: Unit) -> bool:
    return jurisdiction.may_publish_bulletins(access_for_user(actor), issuer)


def _ensure_may_edit(actor: User, issuer: Unit) -> None:
    if not may_edit(actor, issuer):
        raise Forbidden(
            _("通报由督查室或本级政府负责人以本单位名义起草和印发。"), code="not_a_bulletin_issuer"
        )


def _ensure_period(start: datetime.date, end: datetime.date) -> None:
    if end < start:
        message = _("统计截止日不能早于起始日。")
        raise InvalidInput(message, code="period_reversed", fields={"period_end": [message]})


@transaction.atomic
def bulletin_create(
    *,
    actor: User,
    issuer: Unit,
    title: str,
    period_start: datetime.date,
    period_end: datetime.date,
    issued_on: datetime.date | None = None,
    main_recipients: list[Unit] = (),
    copy_to: list[Unit] = (),
    **fields,
) -> Bulletin:
    """A draft bulletin with the issuer's next number for the year it is dated."""
    _ensure_may_edit(actor, issuer)
    _ensure_period(period_start, period_end)
    jurisdiction.ensure_bulletin_recipients(issuer, main_recipients, copy_to)
    issued_on = issued_on or timezone.localdate()
    unknown = set(fields) - EDITABLE
    if unknown:
        raise InvalidInput(
            _("字段不可修改：%(name)s。") % {"name": ", ".join(sorted(unknown))}, code="field_locked"
        )
    bulletin = Bulletin.objects.create(
        issuer=issuer,
        year=issued_on.year,
        number=next_number(BulletinCounter, issuer, issued_on.year),
        title=title,
        period_start=period_start,
        period_end=period_end,
        issued_on=issued_on,
        created_by=actor,
        **fields,
    )
    bulletin.main_recipients.set(main_recipients)
    bulletin.copy_to.set(copy_to)
    return bulletin


def _locked(bulletin_id: int) -> Bulletin:
    return Bulletin.objects.select_for_update().get(pk=bulletin_id)


def bulletin_update(*, bulletin_id: int, actor: User, **changes) -> Bulletin:
    """Edit a draft. The year and number stay: they were given when it was drafted."""
    with transaction.atomic():
        bulletin = _locked(bulletin_id)
        _ensure_may_edit(actor, bulletin.issuer)
        if not bulletin.is_draft:
            raise InvalidTransition(_("通报印发后不能修改。"), code="bulletin_published")
        recipients = {name: changes.pop(name) for name in ("main_recipients", "copy_to") if name in changes}
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidInput(
                _("字段不可修改：%(name)s。") % {"name": ", ".join(sorted(unknown))}, code="field_locked"
            )
        jurisdiction.ensure_bulletin_recipients(
            bulletin.issuer, recipients.get("main_recipients", ()), recipients.get("copy_to", ())
        )
        for name, value in changes.items():
            setattr(bulletin, name, value)
        _ensure_period(bulletin.period_start, bulletin.period_end)
        bulletin.save()
        for name, units in recipients.items():
            getattr(bulletin, name).set(units)
    return bulletin


def bulletin_scope(bulletin: Bulletin, as_of: datetime.date | None = None) -> content.Scope:
    return content.scope_for(
        bulletin.issuer,
        bulletin.period_start,
        bulletin.period_end,
        as_of or min(bulletin.issued_on, timezone.localdate()),
        bulletin.campaign_id,
    )


def bulletin_figures(bulletin: Bulletin) -> dict:
    """What the bulletin shows: frozen once published, computed live for a draft."""
    if bulletin.figures is not None:
        return bulletin.figures
    return content.bulletin_figures(bulletin_scope(bulletin))


def bulletin_publish(*, bulletin_id: int, actor: User) -> Bulletin:
    """Freeze the figures and publish; the PDF is rendered and mailed by a job afterwards."""
    with transaction.atomic():
        bulletin = _locked(bulletin_id)
        _ensure_may_edit(actor, bulletin.issuer)
        if not can_proceed(bulletin.publish):
            raise InvalidTransition(STATE_REFUSED)
        bulletin.publish(by=actor, figures=content.bulletin_figures(bulletin_scope(bulletin)))
        bulletin.save()
        enqueue_on_commit("bulletins.jobs.bulletin_render", bulletin.pk)
    return bulletin


def bulletin_render(*, bulletin_id: int) -> Bulletin:
    """Render a published bulletin's PDF once, record its checksum and mail it to the
    main and copy-to units. Running it again changes nothing."""
    bulletin = Bulletin.objects.select_related("issuer").get(pk=bulletin_id)
    # Withdrawn before the job ran: it is not distributed.
    if bulletin.pdf or bulletin.state != BulletinState.PUBLISHED:
        return bulletin
    pdf, _refused = render_pdf(bulletin_html(bulletin, bulletin.figures))
    with transaction.atomic():
        bulletin = _locked(bulletin.pk)
        if bulletin.pdf or bulletin.state != BulletinState.PUBLISHED:
            return bulletin  # a concurrent run finished first, or it was withdrawn meanwhile
        bulletin.pdf.save(f"{bulletin.number}.pdf", ContentFile(pdf), save=False)
        bulletin.pdf_sha256 = sha256(pdf)
        bulletin.save(update_fields=["pdf", "pdf_sha256"])
        recipients = [*bulletin.main_recipients.all(), *bulletin.copy_to.all()]
        # A header cannot hold a line break; the title may.
        title = " ".join(bulletin.title.split())
        outbox_store(
            kind="bulletin",
            units=recipients,
            subject=f"{bulletin.issuer.name}{bulletin.get_kind_display()}{bulletin.year}年第{bulletin.number}期：{title}",
            body_text=f"{bulletin.title}\n\n请查收附件。\n\n{bulletin.issuer.name}",
            attachment_path=bulletin.pdf.name,
            attachment_name=f"{bulletin.get_kind_display()}{bulletin.year}年第{bulletin.number}期.pdf",
        )
    return bulletin


def bulletin_withdraw(*, bulletin_id: int, actor: User, reason: str) -> Bulletin:
    reason = (reason or "").strip()
    if not reason:
        message = _("请填写撤回理由。")
        raise InvalidInput(message, code="reason_required", fields={"reason": [message]})
    with transaction.atomic():
        bulletin = _locked(bulletin_id)
        _ensure_may_edit(actor, bulletin.issuer)
        if not can_proceed(bulletin.withdraw):
            raise InvalidTransition(STATE_REFUSED)
        bulletin.withdraw(reason=reason)
        bulletin.save()
    return bulletin


def bulletins_render_pending() -> int:
    pending = list(
        Bulletin.objects.filter(state=BulletinState.PUBLISHED, pdf="").values_list("pk", flat=True)
    )
    for bulletin_id in pending:
        bulletin_render(bulletin_id=bulletin_id)
    return len(pending)
