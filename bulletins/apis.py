"""Bulletins over HTTP: draft, preview the figures, edit, publish, withdraw, download."""

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
from core.filters import IntegerFilter
from core.negotiation import FileDownloadMixin
from core.schema import LIST_ERRORS, NOT_ACCEPTABLE, READ_ERRORS, WRITE_ERRORS

from . import selectors, services
from .models import Bulletin
from .serializers import BulletinInput, BulletinSerializer, BulletinUpdateInput, WithdrawInput


def _answer(request, bulletin: Bulletin, status_code=status.HTTP_200_OK) -> Response:
    bulletin = selectors.bulletin_get_for_user(request.user, bulletin.pk)
    return Response(BulletinSerializer(bulletin).data, status=status_code)


class BulletinFilter(filters.FilterSet):
    year = IntegerFilter(min_value=1, max_value=9999)

    class Meta:
        model = Bulletin
        fields = ["issuer", "year", "kind", "state"]


class BulletinListApi(ListApi):
    serializer_class = BulletinSerializer
    filterset_class = BulletinFilter

    def get_queryset(self):
        return selectors.bulletin_list_for_user(self.request.user)

    @extend_schema(
        description=(
            "The bulletins the caller may see: drafts of their own supervision office, and published ones "
            "sent or copied to their units."
        ),
        responses={200: BulletinSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Draft a bulletin (督查通报) for a period; it gets the issuer's next number for the year at "
            "once. For supervision offices, sent and copied only within their jurisdiction."
        ),
        request=BulletinInput,
        responses={201: BulletinSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = BulletinInput(data=request.data)
        data.is_valid(raise_exception=True)
        bulletin = services.bulletin_create(actor=request.user, **data.validated_data)
        return _answer(request, bulletin, status.HTTP_201_CREATED)


class BulletinDetailApi(ApiView):
    @extend_schema(
        description="One bulletin with its number, text, distribution and state.",
        responses={200: BulletinSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        return Response(BulletinSerializer(selectors.bulletin_get_for_user(request.user, pk)).data)

    @extend_schema(
        description=(
            "Edit a draft's title, texts, distribution or dates; a published bulletin cannot be edited."
        ),
        request=BulletinUpdateInput,
        responses={200: BulletinSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, pk):
        bulletin = selectors.bulletin_get_for_user(request.user, pk)
        data = BulletinUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        bulletin = services.bulletin_update(
            bulletin_id=bulletin.pk, actor=request.user, **data.validated_data
        )
        return _answer(request, bulletin)


class BulletinFiguresApi(ApiView):
    """The figures as JSON: live for a draft, frozen for a published bulletin."""

    @extend_schema(
        description=(
            "The bulletin's figures as JSON: live for a draft, frozen for a published bulletin (headline "
            "figures, the ranking, the listed and criticised items, targets behind, rectification, and the "
            "items by source: 批示, 会议议定 … each with how many are closed and overdue)."
        ),
        responses={200: OpenApiTypes.OBJECT, **READ_ERRORS},
    )
    def get(self, request, pk):
        return Response(services.bulletin_figures(selectors.bulletin_get_for_user(request.user, pk)))


class BulletinPublishApi(ApiView):
    @extend_schema(
        description=(
            "Publish a draft: its figures are frozen, its PDF is rendered and mailed to the main and "
            "copy-to units."
        ),
        request=None,
        responses={200: BulletinSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        bulletin = selectors.bulletin_get_for_user(request.user, pk)
        return _answer(request, services.bulletin_publish(bulletin_id=bulletin.pk, actor=request.user))


class BulletinWithdrawApi(ApiView):
    @extend_schema(
        description="Withdraw a published bulletin with a reason; it stays on record.",
        request=WithdrawInput,
        responses={200: BulletinSerializer, **WRITE_ERRORS},
    )
    def post(self, request, pk):
        bulletin = selectors.bulletin_get_for_user(request.user, pk)
        data = WithdrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        bulletin = services.bulletin_withdraw(
            bulletin_id=bulletin.pk, actor=request.user, **data.validated_data
        )
        return _answer(request, bulletin)


class BulletinPdfApi(FileDownloadMixin, ApiView):
    file_media_types = ("application/pdf",)

    @extend_schema(
        description=(
            "Download the published bulletin as PDF (409 while it is still being rendered). The "
            "`X-Checksum-SHA256` header carries its SHA-256."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The bulletin as PDF."
            ),
            **READ_ERRORS,
            **NOT_ACCEPTABLE,
            409: WRITE_ERRORS[409],
        },
    )
    def get(self, request, pk):
        bulletin = selectors.bulletin_get_for_user(request.user, pk)
        if not bulletin.pdf:
            raise Conflict(_("通报尚未印发或正在生成 PDF，请稍后再试。"), code="pdf_not_ready")
        filename = f"{bulletin.get_kind_display()}{bulletin.year}年第{bulletin.number}期.pdf"
        response = FileResponse(
            stored_file_open(bulletin.pdf),
            content_type="application/pdf",
            as_attachment=True,
            filename=filename,
        )
        response["X-Checksum-SHA256"] = bulletin.pdf_sha256
        return response
