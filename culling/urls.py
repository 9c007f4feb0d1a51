from django.urls import path

from culling import views

app_name = "culling"

urlpatterns = [
    path("", views.home, name="home"),
    path("all/", views.workspace_all, name="all"),
    path("shoots/<int:shoot_id>/", views.workspace_shoot, name="shoot"),
    path("shoots/<int:shoot_id>/change/", views.shoot_change, name="shoot-change"),
    path("stacks/<int:stack_id>/", views.workspace_stack, name="stack"),
    path("stacks/<int:stack_id>/change/", views.stack_change, name="stack-change"),
    path("photos/<uuid:uid>/decide/", views.decide, name="decide"),
    path("undo/", views.undo, name="undo"),
    path("photos/<uuid:uid>/tiles/<int:column>/<int:row>.jpg", views.tile, name="tile"),
    path("export/<str:kind>", views.export, name="export"),
]
