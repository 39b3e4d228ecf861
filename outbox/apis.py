"""Group robots and people's channels over HTTP."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.apis import ApiView, ListApi
from core.errors import NotFound
from core.schema import READ_ERRORS, WRITE_ERRORS
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
            "The group robots (WeCom, DingTalk) of the units the caller sets up, within their jurisdiction."
        ),
        responses={200: RobotSerializer(many=True), **READ_ERRORS},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        description=(
            "Add a group robot for a unit the caller sets up: its kind, webhook and secret, which are "
            "stored and never shown again."
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
        description="One group robot of a unit the caller sets up.",
        responses={200: RobotSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        return Response(RobotSerializer(channels.robot_get_for_user(request.user, pk)).data)

    @extend_schema(
        description="Change a group robot: its name, whether it is active, or a new webhook or secret.",
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
        description="Remove a group robot of a unit the caller sets up.",
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
        description=(
            "A person's mobile for SMS and the order of their channels: the caller's own, or anyone's for "
            "a directory administrator."
        ),
        responses={200: ContactSerializer, **READ_ERRORS},
    )
    def get(self, request, pk):
        contact = channels.contact_get(actor=request.user, person=self._person(request, pk))
        return Response(ContactSerializer(contact).data)

    @extend_schema(
        description=(
            "Set a person's mobile for SMS and the order of their channels (their own, or as a directory "
            "administrator)."
        ),
        request=ContactSerializer,
        responses={200: ContactSerializer, **WRITE_ERRORS},
    )
    def put(self, request, pk):
        person = self._person(request, pk)
        data = ContactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = channels.contact_update(actor=request.user, person=person, **data.validated_data)
        return Response(ContactSerializer(contact).data)
