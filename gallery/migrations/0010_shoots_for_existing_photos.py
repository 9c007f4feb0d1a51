"""Every photo belongs to a shoot: file the photos uploaded before shoots existed, one shoot per
photographer and day of capture (the upload day when the file records no capture time), as
ingest files new ones (gallery/shoot_services.py)."""

from collections import defaultdict

from django.db import migrations
from django.utils import formats, timezone


def file_existing_photos(apps, schema_editor):
    Photo = apps.get_model("gallery", "Photo")
    Shoot = apps.get_model("gallery", "Shoot")
    days = defaultdict(list)
    rows = Photo.objects.filter(shoot__isnull=True).values_list(
        "pk", "owner_id", "captured_at", "created_at"
    )
    for pk, owner_id, captured_at, created_at in rows.iterator(chunk_size=5000):
        day = captured_at.date() if captured_at else timezone.localdate(created_at)
        days[(owner_id, day)].append(pk)
    for (owner_id, day), ids in days.items():
        shoot, _ = Shoot.objects.get_or_create(
            owner_id=owner_id,
            capture_day=day,
            is_day_default=True,
            defaults={"name": formats.date_format(day, "l j F Y")},
        )
        for start in range(0, len(ids), 5000):
            Photo.objects.filter(pk__in=ids[start : start + 5000]).update(shoot=shoot)


class Migration(migrations.Migration):
    dependencies = [("gallery", "0009_shoots_and_stacks")]

    operations = [migrations.RunPython(file_existing_photos, migrations.RunPython.noop)]
