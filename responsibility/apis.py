from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.apis import IsAdminOrReadOnly, ModelViewSet
from core.filters import BooleanFilter, IntegerFilter
from core.parsers import BODY_PARSERS
from core.schema import ERRORS, FORBIDDEN, UNAUTHENTICATED, Error, crud_schema

from . import selectors, services
from .lockout import lockout_response
from .models import Membership, Unit, User
from .serializers import MembershipSerializer, PersonSerializer, UnitSerializer


class TokenApi(ObtainAuthToken):
    """Exchange a username and password for an API token. Failed attempts are counted per
    address and per username; past the limit even the right password is refused for a while."""

    # Signing in needs no caller: a client still sending its expired token may sign in again.
    authentication_classes = []
    # ObtainAuthToken names DRF's own parsers; the project's refuse hostile bodies.
    parser_classes = BODY_PARSERS
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(
        description=(
            "Sign in with a username and password (JSON or a form) for an API token to send as "
            "`Authorization: Token <token>`. Failed attempts are counted per address and per username; "
            "past the limit even the right password is refused for a while (429)."
        ),
        responses={
            200: {"type": "object", "properties": {"token": {"type": "string"}}},
            **ERRORS,
            429: OpenApiResponse(
                response=Error,
                description="Too many requests (throttled), or too many failed sign-ins for this "
                "username or address (too_many_failed_logins); Retry-After says when to try again.",
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        valid = serializer.is_valid()
        # django-axes marks the request when authenticate() met the lock-out, or this failure reached it.
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request)
        if not valid:
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        token = services.token_obtain(user=user)
        # As a session login does: last_login is kept and the failures counted so far are cleared.
        user_logged_in.send(sender=type(user), request=request, user=user)
        return Response({"token": token.key})


class LogoutApi(APIView):
    """Revoke the caller's API token; signing in again gives a new one."""

    # 403 is a session caller's missing CSRF token.
    @extend_schema(
        description="Sign out: revoke the caller's API token. Signing in again gives a new one.",
        request=None,
        responses={204: None, **UNAUTHENTICATED, **FORBIDDEN},
    )
    def post(self, request, *args, **kwargs):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UnitFilter(filters.FilterSet):
    within = IntegerFilter(method="filter_within", label="Units in the subtree of this unit")
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Unit
        fields = ["kind", "parent"]

    def filter_within(self, queryset, name, value):
        path = Unit.objects.filter(pk=value).values_list("path", flat=True).first()
        return queryset.filter(path__startswith=path) if path else queryset.none()


@extend_schema_view(
    **crud_schema(
        UnitSerializer,
        list=(
            "The responsibility tree: province, city, county, township and village, with the departments, "
            "leading groups and supervision offices of each level. Filter by `kind`, `parent`, `within` (a "
            "subtree) or `name`."
        ),
        retrieve="One unit of the tree.",
        create="Add a unit under its parent (administrators).",
        partial_update="Rename or move a unit (administrators). Units are never deleted: they carry history.",
    )
)
class UnitViewSet(ModelViewSet):
    """The responsibility tree. Units are never deleted: they carry history."""

    queryset = Unit.objects.all()
    serializer_class = UnitSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_class = UnitFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def perform_create(self, serializer):
        serializer.instance = services.unit_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.unit_update(
            unit_id=serializer.instance.pk, **serializer.validated_data
        )


class PersonFilter(filters.FilterSet):
    is_active = BooleanFilter()
    username = filters.CharFilter(label="Exactly this username")

    class Meta:
        model = User
        fields = []


@extend_schema_view(
    **crud_schema(
        PersonSerializer,
        list=(
            "The people within the caller's reach: themselves and those with a membership in a unit they "
            "see or in a unit above those. E-mail and phone are shown only to colleagues, the supervision "
            "office over them and administrators."
        ),
        retrieve="One person within the caller's reach.",
        create="Add a person with a username and password (administrators).",
        partial_update=(
            "Change a person's name, contacts, password or whether they are active (administrators)."
        ),
    )
)
class PersonViewSet(ModelViewSet):
    queryset = User.objects.order_by("pk")
    serializer_class = PersonSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_class = PersonFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        # A person outside the caller's reach is missing (404), as a task is.
        return selectors.person_list_for_user(self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "reader": self.request.user}

    @staticmethod
    def _take_password(serializer, user=None) -> str | None:
        """The new password, validated, taken out so it is never stored as given."""
        password = serializer.validated_data.pop("password", None)
        if password:
            try:
                # A new person is validated as the unsaved user, so a password close to
                # the username is refused at creation as it is on a change.
                validate_password(password, user or User(**serializer.validated_data))
            except DjangoValidationError as error:
                raise serializers.ValidationError({"password": list(error.messages)}) from None
        return password

    def perform_create(self, serializer):
        password = self._take_password(serializer)
        serializer.instance = services.user_create(password=password, **serializer.validated_data)

    def perform_update(self, serializer):
        password = self._take_password(serializer, serializer.instance)
        user = serializer.save()
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])


@extend_schema_view(
    **crud_schema(
        MembershipSerializer,
        list=(
            "Memberships within the caller's reach: who belongs to which unit and with which role (member, "
            "head, supervisor, leader). Filter by `user`, `unit` or `role`."
        ),
        retrieve="One membership.",
        create="Put a person in a unit with a role (administrators).",
        update="Replace a membership (administrators).",
        partial_update="Change a membership's role (administrators).",
        destroy="Take a person out of a unit (administrators).",
    )
)
class MembershipViewSet(ModelViewSet):
    queryset = Membership.objects.select_related("user", "unit").order_by("pk")
    serializer_class = MembershipSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["user", "unit", "role"]

    def get_queryset(self):
        return selectors.membership_list_for_user(self.request.user)
