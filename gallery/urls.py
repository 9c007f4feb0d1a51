from django.urls import path

from gallery import views

app_name = "gallery"

urlpatterns = [
    path("", views.gallery_home, name="home"),
    path("upload/", views.upload_page, name="upload"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("photos/<uuid:uid>/", views.photo_detail, name="photo-detail"),
    path("photos/<uuid:uid>/review/", views.photo_request_review, name="photo-review"),
    path("photos/<uuid:uid>/<str:kind>", views.photo_file, name="photo-file"),
]
