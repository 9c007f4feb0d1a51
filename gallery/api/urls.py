from django.urls import path

from gallery.api.views import PhotoDetailApi, PhotoListCreateApi, PhotoStatusFeedApi

app_name = "api"

urlpatterns = [
    path("photos/", PhotoListCreateApi.as_view(), name="photo-list"),
    path("photos/feed/", PhotoStatusFeedApi.as_view(), name="photo-feed"),
    path("photos/<uuid:uid>/", PhotoDetailApi.as_view(), name="photo-detail"),
]
