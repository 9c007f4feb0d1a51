"""The two roles. Curators (who are also staff) review photos and invite photographers in the
admin; photographers need no admin permission at all: the app's own pages and the API check
ownership instead. Permissions are written down here, frozen, as a migration should be: a later
change of role is a new migration."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from accounts.roles import CURATORS, PHOTOGRAPHERS

ROLE_PERMISSIONS = {
    CURATORS: [
        # The changelist, detail page, dashboard and duplicate groups need view; the actions,
        # the review queue and the duplicate decisions need change. Nothing is ever deleted.
        ("gallery", "photo", "view_photo"),
        ("gallery", "photo", "change_photo"),
        ("gallery", "photoevent", "view_photoevent"),
        # Invite, list, and withdraw invitations.
        ("accounts", "invitation", "add_invitation"),
        ("accounts", "invitation", "view_invitation"),
        ("accounts", "invitation", "delete_invitation"),
    ],
    PHOTOGRAPHERS: [],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after the whole migrate run (post_migrate); a fresh
    # database has none yet at this point.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [
                Permission.objects.get(
                    content_type__app_label=app_label,
                    content_type__model=model,
                    codename=codename,
                )
                for app_label, model, codename in wanted
            ]
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_invitation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("gallery", "0003_paired_status_scoring_queue"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
