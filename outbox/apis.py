"""Group robots and people's channels over HTTP."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.apis import ApiView, ListApi
from core.errors import NotFound
from core.schema import LIST_ERRORS, READ_ERRORS, WRITE_ERRORS
from responsibility.selectors import person_list_for_user

from . import channels
from .serializers import ContactSerializer, RobotChangeInput, RobotInput, RobotSerializer


class RobotListApi(ListApi):
    """The group robots of the units the caller sets up (their jurisdiction)."""

    serializer_class = RobotSerializer
    filter_backends = []

    def get_queryset(self):
        return channels.robot_list_for_user(self.request.user)

    @extend_schema(
        description=(
            "The group robots (企业微信, 钉钉) of the units within the caller's jurisdiction, with their "
            "unit, kind, whether enabled and whether a signing secret is set; webhook addresses and "
            "secrets are never shown."
        ),
        responses={200: RobotSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Give a unit within the caller's jurisdiction a group robot: its kind, the webhook address "
            "the group shows and, for 钉钉, the signing secret. Both are stored encrypted and never "
            "returned."
        ),
        request=RobotInput,
        responses={201: RobotSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = RobotInput(data=request.data)
        data.is_valid(raise_exception=True)
        robot = channels.robot_create(actor=request.user, **data.validated_data)
        return Response(RobotSerializer(robot).data, status=status.HTTP_201_CREATED)


class RobotDetailApi(ApiView):
    @extend_schema(
        description=("One group robot of a unit within the caller's jurisdiction (404 outside it)."),
        responses={200: RobotSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        return Response(RobotSerializer(channels.robot_get_for_user(request.user, pk)).data)

    @extend_schema(
        description=(
            "Change a group robot: its name, whether it is enabled, a new webhook address or signing secret."
        ),
        request=RobotChangeInput,
        responses={200: RobotSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, pk):
        robot = channels.robot_get_for_user(request.user, pk)
        data = RobotChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        robot = channels.robot_update(robot_id=robot.pk, actor=request.user, **data.validated_data)
        return Response(RobotSerializer(robot).data)

    @extend_schema(
        description=(
            "Delete a group robot that has sent nothing; one that has sent messages answers 409 "
            "(robot_in_use): disable it instead."
        ),
        responses={204: None, **WRITE_ERRORS},
    )
    def delete(self, request, pk):
        robot = channels.robot_get_for_user(request.user, pk)
        channels.robot_delete(robot_id=robot.pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactApi(ApiView):
    """A person's mobile for SMS and the order of their channels: their own, or any for a
    directory administrator."""

    def _person(self, request, pk):
        person = person_list_for_user(request.user).filter(pk=pk).first()
        if person is None:
            raise NotFound()
        return person

    @extend_schema(
        description=("A person's mobile number for SMS and the order in which their channels are tried."),
        responses={200: ContactSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        contact = channels.contact_get(actor=request.user, person=self._person(request, pk))
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        description=("Set one's own mobile number and channel order (an administrator may set anyone's)."),
        request=ContactSerializer,
        responses={200: ContactSerializer, **WRITE_ERRORS},
    )
    def put(self, request, pk):
        person = self._person(request, pk)
        data = ContactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = channels.contact_update(actor=request.user, person=person, **data.validated_data)
        return Response(ContactSerializer(contact).data)
