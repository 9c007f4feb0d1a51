"""The names of the Celery tasks that are sent by name. `pipeline.tasks` registers its tasks
under these names; gallery and backfill send them without importing the task modules, which
sit above them."""

INGEST_PHOTO = "pipeline.ingest_photo"
REGENERATE_PREVIEWS = "pipeline.regenerate_previews"
