from django.apps import AppConfig
from django.core import checks


class PipelineConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "pipeline"
    verbose_name = "Ingest pipeline"

    def ready(self) -> None:
        from pipeline.checks import ingest_settings

        checks.register(ingest_settings)
