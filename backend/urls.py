from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

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
]

# Under /api/ in the API's error shape, elsewhere Django's own pages.
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
