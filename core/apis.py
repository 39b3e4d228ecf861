from rest_framework import generics, permissions, viewsets
from rest_framework.views import APIView

from .idempotency import IdempotentMixin


class ApiView(IdempotentMixin, APIView):
    """Base of every Duban API view: keyed POSTs are idempotent."""


class ListApi(IdempotentMixin, generics.ListAPIView):
    pass


class ModelViewSet(IdempotentMixin, viewsets.ModelViewSet):
    pass


class IsAdminOrReadOnly(permissions.BasePermission):
    """Reading directories is for every signed-in user; changing them is for administrators."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or request.user.is_staff
