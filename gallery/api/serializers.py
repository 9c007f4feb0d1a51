from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from gallery.models import Photo


class PhotoOutput(serializers.ModelSerializer[Photo]):
    id = serializers.UUIDField(source="uid", read_only=True)
    duplicate_of = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "original_filename",
            "format",
            "size_bytes",
            "sha256",
            "width",
            "height",
            "status",
            "reject_reason",
            "reject_detail",
            "camera_make",
            "camera_model",
            "lens",
            "captured_at",
            "iso",
            "exposure_time_s",
            "f_number",
            "focal_length_mm",
            "sharpness",
            "highlight_clip",
            "shadow_clip",
            "duplicate_of",
            "vlm_score",
            "curator_decision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_duplicate_of(self, photo: Photo) -> str | None:
        """The photo this one duplicates, when it is the same photographer's: in a library
        shared across photographers, someone else's photo is never named."""
        other = photo.duplicate_of
        if other is None or other.owner_id != photo.owner_id:
            return None
        return str(other.uid)


class UploadInput(serializers.Serializer[None]):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=True)


class UploadError(serializers.Serializer[None]):
    file = serializers.CharField()
    error = serializers.CharField()
    detail = serializers.CharField()


# Documentation only: a field called `errors` would shadow Serializer.errors on a real class.
UploadOutput = inline_serializer(
    name="UploadOutput",
    fields={"created": PhotoOutput(many=True), "errors": UploadError(many=True)},
)
