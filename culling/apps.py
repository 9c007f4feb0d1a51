from django.apps import AppConfig


class CullingConfig(AppConfig):
    name = "culling"
    verbose_name = "Culling workspace"
