"""The bulletins (督查通报): the list, drafting with the figures previewed as they will print,
editing the text, publishing, the PDF and withdrawing.

Each view reads through ``bulletins.selectors`` (a bulletin someone may not read is the 404
page) and writes through ``bulletins.services``. Whether a person may draft, edit, publish
or withdraw is the services' own rule (``bulletins.services.may_edit``): the pages offer an
action only where it holds, and a refusal is the service's, shown with its message."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from bulletins import selectors, services
from bulletins.models import BulletinState
from bulletins.render import bulletin_html
from core.errors import DomainError, NotFound
from responsibility.jurisdiction import GOVERNMENT_LEVELS
from responsibility.models import Unit, UnitKind
from responsibility.selectors import access_for_user

from ..forms_bulletins import BulletinForm, WithdrawForm

PAGE_SIZE = 20


def _visible_bulletin(user, pk):
    try:
        return selectors.bulletin_get_for_user(user, pk)
    except NotFound:
        raise Http404 from None


def issuers_for(user) -> list[Unit]:
    """The units the person may issue bulletins as: their own offices and levels, each
    asked of the services' rule."""
    access = access_for_user(user)
    units = Unit.objects.filter(kind__in=[UnitKind.SUPERVISION_OFFICE, *GOVERNMENT_LEVELS]).order_by("path")
    if not access.is_admin:
        units = units.filter(pk__in=list(access.roles))
    return [unit for unit in units if services.may_edit(user, unit)]


@login_required
def bulletin_list(request):
    bulletins = selectors.bulletin_list_for_user(request.user).order_by("-issued_on", "-number", "pk")
    page = Paginator(bulletins, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "pages/bulletins/list.html",
        {"page": page, "issuers": issuers_for(request.user)},
    )


def _issuer_from(request, issuers: list[Unit]) -> Unit | None:
    """The issuer the form is for: the one asked for, or the person's only one."""
    wanted = request.POST.get("issuer") or request.GET.get("issuer")
    if wanted is None:
        return issuers[0] if len(issuers) == 1 else None
    return next((unit for unit in issuers if str(unit.pk) == wanted), None)


@login_required
def bulletin_new(request):
    issuers = issuers_for(request.user)
    if not issuers:
        raise PermissionDenied
    issuer = _issuer_from(request, issuers)
    if issuer is None:
        if request.method == "POST":
            raise PermissionDenied
        return render(request, "pages/bulletins/choose_issuer.html", {"issuers": issuers})
    if request.method != "POST":
        return _form_page(request, BulletinForm(issuer=issuer), issuer=issuer)
    form = BulletinForm(request.POST, issuer=issuer)
    if not form.is_valid():
        return _form_page(request, form, issuer=issuer, status=400)
    try:
        bulletin = services.bulletin_create(actor=request.user, issuer=issuer, **form.changes())
    except DomainError as exc:
        return _form_page(request, form, issuer=issuer, error=exc, status=exc.status_code)
    return _done(
        request,
        bulletin,
        _("已起草第 %(number)d 期。请检查下面的预览，再修改或印发。") % {"number": bulletin.number},
    )


def _done(request, bulletin, message):
    messages.success(request, message)
    return redirect("pages:bulletin_detail", pk=bulletin.pk)


def _form_page(request, form, *, issuer, bulletin=None, error=None, status=200):
    return render(
        request,
        "pages/bulletins/form.html",
        {"form": form, "issuer": issuer, "bulletin": bulletin, "error": error},
        status=status,
    )


def _detail_page(request, bulletin, *, withdraw_form=None, error=None, status=200):
    may_edit = services.may_edit(request.user, bulletin.issuer)
    context = {
        "bulletin": bulletin,
        "may_edit": may_edit and bulletin.is_draft,
        "may_publish": may_edit and bulletin.is_draft,
        "may_withdraw": may_edit and bulletin.state == BulletinState.PUBLISHED,
        "withdraw_form": withdraw_form or WithdrawForm(),
        "error": error,
    }
    return render(request, "pages/bulletins/detail.html", context, status=status)


@login_required
def bulletin_detail(request, pk):
    return _detail_page(request, _visible_bulletin(request.user, pk))


@login_required
@xframe_options_sameorigin
def bulletin_preview(request, pk):
    """The bulletin exactly as the PDF is rendered from it (the same template and
    stylesheet), with the figures live for a draft and frozen once published."""
    bulletin = _visible_bulletin(request.user, pk)
    html = bulletin_html(bulletin, services.bulletin_figures(bulletin), base_href=static("bulletins/"))
    return HttpResponse(html)


@login_required
def bulletin_edit(request, pk):
    bulletin = _visible_bulletin(request.user, pk)
    if not services.may_edit(request.user, bulletin.issuer):
        raise PermissionDenied
    if request.method != "POST":
        initial = {
            **{name: getattr(bulletin, name) for name in services.EDITABLE},
            "main_recipients": list(bulletin.main_recipients.all()),
            "copy_to": list(bulletin.copy_to.all()),
        }
        form = BulletinForm(initial=initial, issuer=bulletin.issuer)
        return _form_page(request, form, issuer=bulletin.issuer, bulletin=bulletin)
    form = BulletinForm(request.POST, issuer=bulletin.issuer)
    if not form.is_valid():
        return _form_page(request, form, issuer=bulletin.issuer, bulletin=bulletin, status=400)
    try:
        services.bulletin_update(bulletin_id=bulletin.pk, actor=request.user, **form.changes())
    except DomainError as exc:
        return _form_page(
            request, form, issuer=bulletin.issuer, bulletin=bulletin, error=exc, status=exc.status_code
        )
    return _done(request, bulletin, _("通报已保存。"))


@login_required
@require_POST
def bulletin_publish(request, pk):
    bulletin = _visible_bulletin(request.user, pk)
    try:
        services.bulletin_publish(bulletin_id=bulletin.pk, actor=request.user)
    except DomainError as exc:
        return _detail_page(request, bulletin, error=exc, status=exc.status_code)
    return _done(request, bulletin, _("已印发。PDF 生成后即可下载，并通过发件箱发给主送、抄送单位。"))


@login_required
@require_POST
def bulletin_withdraw(request, pk):
    bulletin = _visible_bulletin(request.user, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, bulletin, withdraw_form=form, status=400)
    try:
        services.bulletin_withdraw(bulletin_id=bulletin.pk, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _detail_page(request, bulletin, withdraw_form=form, error=exc, status=exc.status_code)
    return _done(request, bulletin, _("通报已撤回，仍留档可查。"))
