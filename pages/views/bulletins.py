"""Bulletins (督查通报): the list, a draft previewed as the PDF it will print, its text edited,
published, downloaded and withdrawn, through the bulletins app's selectors and services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bulletins import selectors, services
from bulletins.render import bulletin_html, render_pdf
from core.errors import DomainError, NotFound

from ..forms import BulletinTextForm, WithdrawForm

PAGE_SIZE = 20


def _visible(user, pk):
    try:
        return selectors.bulletin_get_for_user(user, pk)
    except NotFound:
        raise Http404 from None


@login_required
def bulletin_list(request):
    bulletins = selectors.bulletin_list_for_user(request.user).order_by("-issued_on", "-pk")
    page = Paginator(bulletins, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "pages/bulletin_list.html", {"page": page})


def _bulletin_page(request, bulletin, *, text_form=None, withdraw_form=None, error=None, status=200):
    editable = services.may_edit(request.user, bulletin.issuer)
    context = {
        "bulletin": bulletin,
        "editable": editable,
        "text_form": text_form
        or (BulletinTextForm(instance=bulletin) if editable and bulletin.is_draft else None),
        "withdraw_form": withdraw_form
        or (WithdrawForm() if editable and bulletin.state == "published" else None),
        "error": error,
    }
    return render(request, "pages/bulletin_detail.html", context, status=status)


@login_required
def bulletin_detail(request, pk):
    return _bulletin_page(request, _visible(request.user, pk))


@login_required
def bulletin_preview(request, pk):
    """The bulletin as it will print: a draft's figures as of today, a published one's as
    frozen."""
    bulletin = _visible(request.user, pk)
    pdf, _refused = render_pdf(bulletin_html(bulletin, services.bulletin_figures(bulletin)))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _done(request, pk, message):
    messages.success(request, message)
    return redirect("pages:bulletin_detail", pk=pk)


@login_required
@require_POST
def bulletin_edit(request, pk):
    bulletin = _visible(request.user, pk)
    form = BulletinTextForm(request.POST, instance=bulletin)
    if not form.is_valid():
        return _bulletin_page(request, bulletin, text_form=form, status=400)
    try:
        services.bulletin_update(bulletin_id=bulletin.pk, actor=request.user, **form.changes())
    except DomainError as exc:
        return _bulletin_page(
            request, _visible(request.user, pk), text_form=form, error=exc, status=exc.status_code
        )
    return _done(request, pk, _("通报已保存。"))


@login_required
@require_POST
def bulletin_publish(request, pk):
    bulletin = _visible(request.user, pk)
    try:
        services.bulletin_publish(bulletin_id=bulletin.pk, actor=request.user)
    except DomainError as exc:
        return _bulletin_page(request, bulletin, error=exc, status=exc.status_code)
    return _done(request, pk, _("通报已印发，PDF 生成后即发送。"))


@login_required
@require_POST
def bulletin_withdraw(request, pk):
    bulletin = _visible(request.user, pk)
    form = WithdrawForm(request.POST)
    form.is_valid()
    try:
        services.bulletin_withdraw(
            bulletin_id=bulletin.pk, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except DomainError as exc:
        return _bulletin_page(request, bulletin, withdraw_form=form, error=exc, status=exc.status_code)
    return _done(request, pk, _("通报已撤回。"))
