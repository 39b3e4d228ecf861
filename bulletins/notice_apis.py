"""督办通知单 over HTTP: issue, list, read, download the PDF, return the 回执."""

from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.apis import ApiView, ListApi
from core.errors import Conflict
from core.files import stored_file_open
from core.filters import BooleanFilter, IntegerFilter
from core.negotiation import FileDownloadMixin
from core.schema import LIST_ERRORS, NOT_ACCEPTABLE, READ_ERRORS, WRITE_ERRORS

from . import notice_selectors as selectors
from . import notice_services as services
from .models import Notice
from .notice_serializers import NoticeInput, NoticeReplyInput, NoticeSerializer, NoticeWithdrawInput


def _answer(request, notice: Notice, status_code=status.HTTP_200_OK) -> Response:
    notice = selectors.notice_get_for_user(request.user, notice.pk)
    return Response(NoticeSerializer(notice).data, status=status_code)


class NoticeFilter(filters.FilterSet):
    task = IntegerFilter(min_value=1)
    year = IntegerFilter(min_value=1, max_value=9999)
    replied = BooleanFilter(field_name="replied_at", lookup_expr="isnull", exclude=True)
    withdrawn = BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Notice
        fields = ["task", "office", "to_unit", "year", "urgency", "replied", "withdrawn"]


class NoticeListApi(ListApi):
    serializer_class = NoticeSerializer
    filterset_class = NoticeFilter

    def get_queryset(self):
        return selectors.notice_list_for_user(self.request.user)

    @extend_schema(
        description=(
            "The 督办通知单 about the tasks the caller sees, newest first; filter by task, office, "
            "receiving unit, year, urgency or whether the 回执 is in."
        ),
        responses={200: NoticeSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Issue a 督办通知单 about an open task: the office's next number for the year (〔2026〕第N号), "
            "the ladder's rung of its urgency (提示 reminder, 催办 overdue, 挂牌 listed), and a 回执 owed by "
            "the lead unit by reply_by. The PDF is rendered and mailed to the unit afterwards. Only a "
            "supervision office over the task's lead or issuing unit issues one."
        ),
        request=NoticeInput,
        responses={201: NoticeSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = NoticeInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        notice = services.notice_issue(actor=request.user, task_id=values.pop("task"), **values)
        return _answer(request, notice, status.HTTP_201_CREATED)


class NoticeDetailApi(ApiView):
    @extend_schema(
        description="One 督办通知单 with its 回执, if returned.",
        responses={200: NoticeSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        return Response(NoticeSerializer(selectors.notice_get_for_user(request.user, pk)).data)


class NoticeReplyApi(ApiView):
    @extend_schema(
        description=(
            "Return the 回执 of a notice, as its receiving unit: the measures taken, the date done or "
            "promised, and who signed. Meets the 回执 owed and appears in the task's history; once only "
            "(409 notice_replied), and not to a withdrawn notice (409 notice_withdrawn). The PDF is then "
            "rendered again with the 回执 printed in."
        ),
        request=NoticeReplyInput,
        responses={200: NoticeSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        notice = selectors.notice_get_for_user(request.user, pk)
        data = NoticeReplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        notice = services.notice_reply(
            notice_id=notice.pk,
            actor=request.user,
            measures=values["measures"],
            reply_date=values["reply_date"],
            completed=values["completed"],
            signer=values["signer"],
        )
        return _answer(request, notice)


class NoticeWithdrawApi(ApiView):
    @extend_schema(
        description=(
            "Withdraw (撤销) a notice, as its office, with a reason: it stays listed, marked withdrawn, "
            "and its number is not given again; its 回执 is no longer owed nor chased, and the unit is "
            "told by e-mail. Not once its 回执 is in (409 notice_replied), nor twice (409 notice_withdrawn)."
        ),
        request=NoticeWithdrawInput,
        responses={200: NoticeSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        notice = selectors.notice_get_for_user(request.user, pk)
        data = NoticeWithdrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        notice = services.notice_withdraw(
            notice_id=notice.pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return _answer(request, notice)


class NoticePdfApi(FileDownloadMixin, ApiView):
    file_media_types = ("application/pdf",)

    @extend_schema(
        description=(
            "Download the notice as PDF, with its detachable 回执 (409 while it is still being rendered). "
            "The `X-Checksum-SHA256` header carries its SHA-256."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The notice as PDF."
            ),
            **READ_ERRORS,
            **NOT_ACCEPTABLE,
            409: WRITE_ERRORS[409],
        },
    )
    def get(self, request, pk):
        notice = selectors.notice_get_for_user(request.user, pk)
        if not notice.pdf:
            raise Conflict(_("督办通知单正在生成 PDF，请稍后再试。"), code="pdf_not_ready")
        response = FileResponse(
            stored_file_open(notice.pdf),
            content_type="application/pdf",
            as_attachment=True,
            filename=f"督办通知单{notice.numbering}.pdf",
        )
        response["X-Checksum-SHA256"] = notice.pdf_sha256
        return response
