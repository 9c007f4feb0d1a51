"""The two roles, as Django groups. Their permissions are granted by the data migration
0002_curator_and_photographer_groups; a curator is also `is_staff`, which lets them into the
admin at all."""

CURATORS = "Curators"
PHOTOGRAPHERS = "Photographers"
