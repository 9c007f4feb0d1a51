from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from curation.health import healthz, readyz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    # The admin login page offers "Forgotten your password?" when this name resolves.
    path(
        "admin/password_reset/",
        RedirectView.as_view(pattern_name="password_reset"),
        name="admin_password_reset",
    ),
    path("readyz/", readyz, name="readyz"),
    # The culling workspace sits beside the admin, under its login.
    path("admin/cull/", include("culling.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/uploads/", include("gallery.api.direct_upload_urls")),
    path("api/", include("gallery.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file, not inline (the CSP).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="gallery/api_docs.html"
        ),
        name="api-docs",
    ),
    path("", include("gallery.urls")),
]
