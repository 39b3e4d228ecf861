from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.throttling import ScopedRateThrottle

from core.apis import IsAdminOrReadOnly, ModelViewSet
from core.filters import IntegerFilter
from core.schema import ERRORS, crud_schema

from . import services
from .models import Membership, Responsibility, Unit, User
from .serializers import MembershipSerializer, PersonSerializer, ResponsibilitySerializer, UnitSerializer


class TokenApi(ObtainAuthToken):
    """Exchange a username and password for an API token."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(responses={200: {"type": "object", "properties": {"token": {"type": "string"}}}, **ERRORS})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class UnitFilter(filters.FilterSet):
    within = IntegerFilter(method="filter_within", label="Units in the subtree of this unit")
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Unit
        fields = ["kind", "parent"]

    def filter_within(self, queryset, name, value):
        path = Unit.objects.filter(pk=value).values_list("path", flat=True).first()
        return queryset.filter(path__startswith=path) if path else queryset.none()


@extend_schema_view(**crud_schema(UnitSerializer))
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
        serializer.instance = services.unit_update(unit=serializer.instance, **serializer.validated_data)


@extend_schema_view(**crud_schema(PersonSerializer))
class PersonViewSet(ModelViewSet):
    queryset = User.objects.order_by("pk")
    serializer_class = PersonSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

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


@extend_schema_view(**crud_schema(MembershipSerializer))
class MembershipViewSet(ModelViewSet):
    queryset = Membership.objects.select_related("user", "unit").order_by("pk")
    serializer_class = MembershipSerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["user", "unit", "role"]


@extend_schema_view(**crud_schema(ResponsibilitySerializer))
class ResponsibilityViewSet(ModelViewSet):
    """A campaign's catalogue of responsibilities, such as the "eight responsibilities"."""

    queryset = Responsibility.objects.order_by("campaign", "order", "code")
    serializer_class = ResponsibilitySerializer
    permission_classes = [IsAdminOrReadOnly]
    filterset_fields = ["campaign"]
