"""Mounted under /api/uploads/: parts go to S3 in S3 mode, to `part` in local mode."""

from django.urls import path

from gallery.api.direct_upload_views import (
    DirectUploadCompleteApi,
    DirectUploadCreateApi,
    DirectUploadDetailApi,
    DirectUploadPartApi,
    DirectUploadPartsApi,
)

app_name = "uploads"

urlpatterns = [
    path("", DirectUploadCreateApi.as_view(), name="create"),
    path("<str:token>/", DirectUploadDetailApi.as_view(), name="detail"),
    path("<str:token>/parts/", DirectUploadPartsApi.as_view(), name="parts"),
    path("<str:token>/complete/", DirectUploadCompleteApi.as_view(), name="complete"),
    path("<str:token>/parts/<int:number>/", DirectUploadPartApi.as_view(), name="part"),
]
