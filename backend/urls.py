from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("responsibility.urls")),
    path("api/v1/", include("tasks.urls")),
    path("api/v1/", include("outbox.urls")),
    path("api/v1/", include("notifications.urls")),
    path("api/v1/", include("bulletins.urls")),
    path("api/v1/", include("imports.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="pages/redoc.html"),
        name="redoc",
    ),
    # The people's pages: the workbench at /, the task pages at /tasks/{id}/.
    path("", include("pages.urls")),
]

# Under /api/ in the API's error shape, elsewhere the pages' own (pages/templates/404.html).
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
