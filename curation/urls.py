from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from curation.health import healthz, readyz
from gallery.api.views import api_not_found

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
    # Anything else under /api/ is a JSON 404 (Django's would be an HTML page, or, for an
    # address missing its final slash, a redirect that turns an upload into a GET).
    re_path(r"^api/", api_not_found),
    path("", include("gallery.urls")),
]
