from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("gallery", "0006_photo_ingest_queued_at")]

    operations = [
        migrations.AddIndex(
            model_name="photo",
            index=models.Index(fields=["owner", "updated_at"], name="photo_owner_updated"),
        ),
    ]
