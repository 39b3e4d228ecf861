"""Signing in and out and changing one's password: Django's session views with the pages'
templates. Anyone with an account signs in (no ``is_staff``); failed sign-ins count toward
the same lock-out as the API's token endpoint (django-axes hooks ``authenticate``)."""

from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import is_api_path
from responsibility import lockout


class SignInView(auth_views.LoginView):
    template_name = "pages/login.html"
    redirect_authenticated_user = True


class SignOutView(auth_views.LogoutView):
    pass


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "pages/password_change.html"
    success_url = reverse_lazy("pages:workbench")
    success_message = _("密码已修改。")


def lockout_response(request, original_response=None, credentials=None):
    """Too many failed sign-ins: the API's JSON under ``/api/``, the sign-in page elsewhere,
    with the same message, status (429) and Retry-After."""
    answer = lockout.lockout_response(request, original_response, credentials)
    if is_api_path(request.path):
        return answer
    page = render(
        request,
        "pages/login.html",
        {"form": SignInView.form_class(request), "lockout_message": answer.content.decode()},
        status=answer.status_code,
    )
    page["Retry-After"] = answer["Retry-After"]
    return page
