"""Mounted under /api/uploads/ (S3 mode; elsewhere every endpoint answers 501)."""

from django.urls import path

from gallery.api.direct_upload_views import (
    DirectUploadCompleteApi,
    DirectUploadCreateApi,
    DirectUploadDetailApi,
    DirectUploadPartsApi,
)

app_name = "uploads"

urlpatterns = [
    path("", DirectUploadCreateApi.as_view(), name="create"),
    path("<str:token>/", DirectUploadDetailApi.as_view(), name="detail"),
    path("<str:token>/parts/", DirectUploadPartsApi.as_view(), name="parts"),
    path("<str:token>/complete/", DirectUploadCompleteApi.as_view(), name="complete"),
]
