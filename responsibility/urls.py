from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("units", apis.UnitViewSet)
router.register("people", apis.PersonViewSet)
router.register("memberships", apis.MembershipViewSet)

urlpatterns = [
    path("auth/token/", apis.TokenApi.as_view(), name="auth-token"),
    path("auth/logout/", apis.LogoutApi.as_view(), name="auth-logout"),
    *router.urls,
]
