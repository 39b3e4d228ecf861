"""The workbench, the task list and the task page, with the task's actions as forms.

Each view parses, calls the selector or service the API calls, and renders. What a person
may do is read from the rules (``tasks.rules``, the transitions' declarations); a refusal
is the service's, shown on the page with its message and status."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from bulletins import notice_services
from bulletins.notice_selectors import notice_get_for_user
from core.errors import DomainError, Forbidden, NotFound
from core.idempotency import Replay, idempotency_begin, idempotency_finish
from notifications.selectors import task_escalations
from responsibility import jurisdiction
from responsibility.models import Unit
from responsibility.selectors import access_for_user
from tasks import lateness, obligations, rules, selectors, services
from tasks.filters import TaskFilter
from tasks.lateness import today
from tasks.models import TRANSITIONS, Campaign, TaskScope, TaskUnitRole
from tasks.schedules import schedule_status
from tasks.worklist import TaskClock, work_items_for_user

from ..forms import (
    LIGHT_CHOICES,
    SOURCE_CHOICES,
    STATE_CHOICES,
    DecisionForm,
    DecomposeForm,
    ExtensionForm,
    RecheckForm,
    ReportForm,
    ReportScheduleForm,
    TransferDecisionForm,
    TransferForm,
    TransferWithdrawForm,
    TransitionForm,
)
from ..forms_notices import NoticeReplyForm, NoticeWithdrawForm, notice_rows
from ..timeline import task_timeline

PAGE_SIZE = 20
LIST_FILTERS = ("light", "state", "unit", "campaign", "source_kind", "due_after", "due_before", "overdue")
# Filters that take several values in the API, one from the page's select.
MULTIPLE = ("state", "source_kind")


def _visible_task(user, pk):
    try:
        return selectors.task_get_for_user(user, pk)
    except NotFound:
        raise Http404 from None


@login_required
def workbench(request):
    items = work_items_for_user(request.user)
    groups = [
        (light, [item for item in items if item.light == light]) for light in ("red", "yellow", "green")
    ]
    return render(request, "pages/workbench.html", {"groups": groups, "count": len(items)})


def _unit_choices(user) -> list[Unit]:
    """The person's own units and those one level down: the subtrees they filter on most."""
    access = access_for_user(user)
    own = list(Unit.objects.filter(pk__in=list(access.roles)).order_by("path"))
    below = Unit.objects.filter(parent__in=own).order_by("path") if own else []
    return [*own, *below]


@login_required
def task_list(request):
    params = request.GET.copy()
    descending = params.get("sort") == "-due_date"
    # The API's path: the filters select scope rows, and the page is read from them
    # (tasks.selectors.TaskPages), so a county's list costs what the API's does.
    filterset = TaskFilter(
        {
            key: params.getlist(key) if key in MULTIPLE else params.get(key)
            for key in LIST_FILTERS
            if params.get(key)
        },
        queryset=TaskScope.objects.all(),
    )
    valid = filterset.is_valid()
    ordering = ["-due_date" if descending else "due_date", "pk"]
    tasks = selectors.task_pages_for_user(request.user, filterset.qs, ordering) if valid else []
    page = Paginator(tasks, PAGE_SIZE).get_page(params.get("page"))
    clock = TaskClock()
    rows = [(task, clock.light(task), clock.working_days(task)) for task in page.object_list]
    query = {key: params.get(key) for key in LIST_FILTERS if params.get(key)}
    context = {
        "page": page,
        "rows": rows,
        "filters": query,
        "errors": filterset.errors if not valid else {},
        "descending": descending,
        "query": urlencode(query),
        "ledger_url": reverse("ledger-tasks")
        + "?"
        + urlencode({**query, "ordering": "-due_date" if descending else "due_date"}),
        "light_choices": LIGHT_CHOICES,
        "state_choices": STATE_CHOICES,
        "source_choices": SOURCE_CHOICES,
        "campaigns": Campaign.objects.order_by("-starts_on", "pk"),
        "units": _unit_choices(request.user),
    }
    template = (
        "pages/partials/task_table.html" if request.htmx and request.htmx.target == "task-table" else None
    )
    return render(request, template or "pages/task_list.html", context, status=200 if valid else 400)


def _task_page(request, task, *, forms: dict | None = None, error: DomainError | None = None, status=200):
    """The task page; ``forms`` replaces the blank form of an action that was refused, so
    what the person typed is shown again with the refusal."""
    access = access_for_user(request.user)
    transitions = services.task_available_transitions(task=task, actor=request.user)
    actions = rules.actions_available(access, task)
    forms = forms or {}
    indicators = list(task.indicators.all())
    parents = {indicator.parent_id for indicator in indicators}
    leaves = [indicator for indicator in indicators if indicator.pk not in parents]
    reporting = schedule_status(task, today())
    # The issuing side sets the report schedule as it edits the task (the service's rule).
    may_edit = task.state in rules.ACTION_STATES["edit"] and rules.may(access, task, "edit")
    context = {
        "task": task,
        "responsible_units": _unit_names(task, TaskUnitRole.RESPONSIBLE),
        "cooperating_units": _unit_names(task, TaskUnitRole.COOPERATING),
        "clock": TaskClock(),
        "transitions": [
            (TRANSITIONS[name], forms.get(name) or TransitionForm(transition=TRANSITIONS[name]))
            for name in transitions
        ],
        "actions": actions,
        "report_form": forms.get("report")
        or (ReportForm(indicators=leaves) if "report" in actions else None),
        "extension_form": forms.get("request_extension")
        or (ExtensionForm() if "request_extension" in actions else None),
        "decompose_form": forms.get("decompose")
        or (_decompose_form(access, task) if "decompose" in actions else None),
        "may_decide": rules.may(access, task, "decide_extension"),
        "reporting": reporting,
        "schedule_form": forms.get("report_schedule")
        or (ReportScheduleForm(schedule=reporting["schedule"]) if may_edit else None),
        "notices": notice_rows(access, task, forms.get("notice_reply"), forms.get("notice_withdraw")),
        "recheck": selectors.recheck_of(task, lateness.today()),
        "recheck_form": forms.get("recheck")
        or (RecheckForm() if "recheck" in actions and obligations.recheck_pending(task) else None),
        "transfer_form": forms.get("request_transfer")
        or (_transfer_form(task) if "request_transfer" in actions else None),
        "transfers": selectors.task_transfers(task),
        "may_decide_transfer": task.state in rules.ACTION_STATES["decide_transfer"]
        and rules.may(access, task, "decide_transfer"),
        # A pending request is the lead unit's own (``transfers_supersede`` closes it otherwise).
        "may_withdraw_transfer": rules.may(access, task, "withdraw_transfer"),
        "timeline": task_timeline(
            selectors.task_history(task),
            selectors.task_reports(task),
            selectors.task_extensions(task),
            task_escalations(task),
            {indicator.pk: indicator for indicator in indicators},
        ),
        "error": error,
    }
    return render(request, "pages/task_detail.html", context, status=status)


def _unit_names(task, role) -> list[str]:
    return [link.unit.name for link in task.task_units.all() if link.role == role]


def _transfer_form(task, data=None):
    units = jurisdiction.units_one_level_down(task.issuing_unit, through_task=task.parent_id is not None)
    return TransferForm(data, units=units.exclude(pk=task.lead_unit_id))


def _decompose_form(access, task, data=None):
    unit = Unit.objects.get(pk=rules.decomposing_unit_id(access, task))
    return DecomposeForm(
        data,
        units=jurisdiction.units_one_level_down(unit, through_task=True),
        indicators=task.indicators.all(),
        initial={"title": task.title, "due_date": task.due_date},
    )


@login_required
def task_detail(request, pk):
    return _task_page(request, _visible_task(request.user, pk))


def _done(request, pk, message):
    messages.success(request, message)
    return redirect("pages:task_detail", pk=pk)


def _refused(request, pk, exc: DomainError, form_name: str, form):
    if isinstance(exc, NotFound):
        raise Http404 from None
    return _task_page(
        request, _visible_task(request.user, pk), forms={form_name: form}, error=exc, status=exc.status_code
    )


@login_required
@require_POST
def task_transition(request, pk, name):
    declared = TRANSITIONS.get(name)
    if declared is None:
        raise Http404
    form = TransitionForm(request.POST, transition=declared)
    if not form.is_valid():
        return _task_page(request, _visible_task(request.user, pk), forms={name: form}, status=400)
    try:
        services.task_transition(
            task_id=pk, actor=request.user, name=name, comment=form.cleaned_data["comment"]
        )
    except DomainError as exc:
        return _refused(request, pk, exc, name, form)
    if name == "return_to_issuer":
        # A draft again, the task is the issuer's alone: the unit that returned it no
        # longer sees its page.
        messages.success(request, _("已退回交办单位。"))
        return redirect("pages:workbench")
    return _done(request, pk, _("已%(action)s。") % {"action": declared.label})


@login_required
@require_POST
def task_report(request, pk):
    task = _visible_task(request.user, pk)
    leaves = list(selectors.indicator_leaves(task))
    form = ReportForm(request.POST, indicators=leaves)
    if not form.is_valid():
        return _task_page(request, task, forms={"report": form}, status=400)
    try:
        with transaction.atomic():
            record = idempotency_begin(request, key=form.cleaned_data["idempotency_key"], data=request.POST)
            services.progress_report_create(
                task_id=pk,
                actor=request.user,
                text=form.cleaned_data["text"],
                figures=form.figures(),
                files=request.FILES.getlist("files"),
            )
            response = _done(request, pk, _("进展已报送。"))
            idempotency_finish(record, response)
    except Replay:
        return _done(request, pk, _("这份进展已经报送过，没有重复记录。"))
    except DomainError as exc:
        return _refused(request, pk, exc, "report", form)
    return response


@login_required
@require_POST
def task_recheck(request, pk):
    form = RecheckForm(request.POST)
    if not form.is_valid():
        return _task_page(request, _visible_task(request.user, pk), forms={"recheck": form}, status=400)
    try:
        services.task_recheck_record(
            task_id=pk, actor=request.user, files=request.FILES.getlist("files"), **form.cleaned_data
        )
    except DomainError as exc:
        return _refused(request, pk, exc, "recheck", form)
    return _done(request, pk, _("回头看复查已记录。"))


@login_required
@require_POST
def task_report_schedule(request, pk):
    form = ReportScheduleForm(request.POST)
    if not form.is_valid():
        return _task_page(
            request, _visible_task(request.user, pk), forms={"report_schedule": form}, status=400
        )
    try:
        services.report_schedule_set(task_id=pk, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _refused(request, pk, exc, "report_schedule", form)
    return _done(request, pk, _("报送要求已保存。"))


@login_required
@require_POST
def task_report_schedule_remove(request, pk):
    try:
        services.report_schedule_remove(task_id=pk, actor=request.user)
    except DomainError as exc:
        return _refused(request, pk, exc, "report_schedule", None)
    return _done(request, pk, _("报送要求已取消。"))


@login_required
@require_POST
def task_step_complete(request, pk, step_pk):
    try:
        services.procedure_step_complete(task_id=pk, step_id=step_pk, actor=request.user)
    except DomainError as exc:
        return _refused(request, pk, exc, "complete_step", None)
    return _done(request, pk, _("步骤已完成。"))


@login_required
@require_POST
def task_extension_request(request, pk):
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        return _task_page(
            request, _visible_task(request.user, pk), forms={"request_extension": form}, status=400
        )
    try:
        services.extension_request_create(task_id=pk, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _refused(request, pk, exc, "request_extension", form)
    return _done(request, pk, _("延期申请已提交。"))


@login_required
@require_POST
def extension_decision(request, pk):
    try:
        extension = selectors.extension_get_for_user(request.user, pk)
    except NotFound:
        raise Http404 from None
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _task_page(request, _visible_task(request.user, extension.task_id), status=400)
    try:
        services.extension_decide(
            extension_id=extension.pk,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        return _refused(request, extension.task_id, exc, "decide_extension", None)
    return _done(request, extension.task_id, _("延期申请已处理。"))


@login_required
@require_POST
def task_transfer_request(request, pk):
    task = _visible_task(request.user, pk)
    form = _transfer_form(task, request.POST)
    if not form.is_valid():
        return _task_page(request, task, forms={"request_transfer": form}, status=400)
    try:
        services.transfer_request_create(task_id=pk, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _refused(request, pk, exc, "request_transfer", form)
    return _done(request, pk, _("转办申请已提交，等待下达单位审批。"))


@login_required
@require_POST
def transfer_decision(request, pk):
    try:
        transfer = selectors.transfer_get_for_user(request.user, pk)
    except NotFound:
        raise Http404 from None
    form = TransferDecisionForm(request.POST)
    if not form.is_valid():
        return _task_page(request, _visible_task(request.user, transfer.task_id), status=400)
    try:
        services.transfer_decide(
            transfer_id=transfer.pk,
            actor=request.user,
            approve=form.cleaned_data["decision"] == "approve",
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        return _refused(request, transfer.task_id, exc, "decide_transfer", None)
    return _done(request, transfer.task_id, _("转办申请已处理。"))


@login_required
@require_POST
def transfer_withdraw(request, pk):
    try:
        transfer = selectors.transfer_get_for_user(request.user, pk)
    except NotFound:
        raise Http404 from None
    form = TransferWithdrawForm(request.POST)
    if not form.is_valid():
        return _task_page(request, _visible_task(request.user, transfer.task_id), status=400)
    try:
        services.transfer_withdraw(
            transfer_id=transfer.pk, actor=request.user, comment=form.cleaned_data["comment"]
        )
    except DomainError as exc:
        return _refused(request, transfer.task_id, exc, "withdraw_transfer", None)
    return _done(request, transfer.task_id, _("转办申请已撤回。"))


@login_required
@require_POST
def task_decompose(request, pk):
    task = _visible_task(request.user, pk)
    access = access_for_user(request.user)
    if not rules.may(access, task, "decompose"):
        # The form's units are those below the unit the caller heads; without one, the
        # service's own refusal is shown.
        return _task_page(request, task, error=Forbidden(), status=403)
    form = _decompose_form(access, task, request.POST)
    if not form.is_valid():
        return _task_page(request, task, forms={"decompose": form}, status=400)
    children = [
        services.ChildSpec(
            title=form.cleaned_data["title"],
            due_date=form.cleaned_data["due_date"],
            lead_unit=child["lead_unit"],
            targets=child["targets"],
            inherit_report_schedule=not form.cleaned_data["no_report_schedule"],
            ongoing=False if form.cleaned_data["not_ongoing"] else None,
        )
        for child in form.children()
    ]
    try:
        created = services.task_decompose(task_id=pk, actor=request.user, children=children)
    except DomainError as exc:
        # What is wrong with the plan, beside the form: every piece is alike on the page.
        plan = exc.fields.get("children", {})
        for problem in dict.fromkeys(problem for problems in plan.values() for problem in problems):
            form.add_error(None, problem)
        return _refused(request, pk, exc, "decompose", form)
    return _done(request, pk, _("已分解为 %(count)d 个子任务。") % {"count": len(created)})


@login_required
@require_POST
def notice_reply(request, pk, notice_pk):
    """The receiving unit's 回执 to a notice about this task."""
    form = NoticeReplyForm(request.POST, prefix=f"n{notice_pk}")
    if not form.is_valid():
        return _task_page(
            request, _visible_task(request.user, pk), forms={"notice_reply": (notice_pk, form)}, status=400
        )
    try:
        notice = notice_get_for_user(request.user, notice_pk)
        if notice.task_id != pk:
            raise NotFound()
        notice_services.notice_reply(notice_id=notice.pk, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _refused(request, pk, exc, "notice_reply", (notice_pk, form))
    return _done(request, pk, _("回执已报送。"))


@login_required
@require_POST
def notice_withdraw(request, pk, notice_pk):
    """The issuing office withdraws a notice about this task, with a reason."""
    form = NoticeWithdrawForm(request.POST, prefix=f"w{notice_pk}")
    if not form.is_valid():
        return _task_page(
            request, _visible_task(request.user, pk), forms={"notice_withdraw": (notice_pk, form)}, status=400
        )
    try:
        notice = notice_get_for_user(request.user, notice_pk)
        if notice.task_id != pk:
            raise NotFound()
        notice_services.notice_withdraw(notice_id=notice.pk, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        return _refused(request, pk, exc, "notice_withdraw", (notice_pk, form))
    return _done(request, pk, _("督办通知单已撤销。"))
