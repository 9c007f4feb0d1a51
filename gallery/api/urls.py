from django.urls import path

from gallery.api.views import PhotoDetailApi, PhotoListCreateApi

app_name = "api"

urlpatterns = [
    path("photos/", PhotoListCreateApi.as_view(), name="photo-list"),
    path("photos/<uuid:uid>/", PhotoDetailApi.as_view(), name="photo-detail"),
]
