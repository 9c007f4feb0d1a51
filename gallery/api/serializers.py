from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from gallery.models import FLAG_CODES, NOTE_CODES, Photo


def _choices(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(code, Photo.ValidatorFlag(code).label) for code in codes]


def _reject_reason() -> serializers.ChoiceField:
    # Declared, not derived from the model: a derived read-only field drops allow_blank, and
    # the schema's enum would then refuse the empty value every photo not rejected carries.
    return serializers.ChoiceField(
        choices=Photo.RejectReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why the photo was stopped; empty unless its status is `rejected`.",
    )


class PhotoOutput(serializers.ModelSerializer[Photo]):
    id = serializers.UUIDField(source="uid", read_only=True)
    reject_reason = _reject_reason()
    curator_decision = serializers.ChoiceField(
        choices=Photo.CuratorDecision.choices,
        allow_blank=True,
        read_only=True,
        help_text="A curator's pick or reject; empty until a curator decides.",
    )
    duplicate_of = serializers.SerializerMethodField()
    verdict = serializers.ChoiceField(
        source="validator_verdict",
        choices=Photo.ValidatorVerdict.choices,
        allow_blank=True,
        read_only=True,
        help_text=(
            "The validator's verdict: `pass`; `borderline` (doubtful, sent on to scoring with "
            "`flags`); `reject` (stopped before scoring, see `reject_reason`). Empty until the "
            "validator has run."
        ),
    )
    flags = serializers.ListField(
        source="validator_flags",
        child=serializers.ChoiceField(choices=_choices(FLAG_CODES)),
        read_only=True,
        help_text="What the validator doubted about a frame it sent on to scoring.",
    )
    notes = serializers.ListField(
        source="validator_notes",
        child=serializers.ChoiceField(choices=_choices(NOTE_CODES)),
        read_only=True,
        help_text="Warnings about the file itself; the photo was read normally.",
    )
    warnings = serializers.ListField(
        source="validator_warnings",
        child=serializers.CharField(),
        read_only=True,
        help_text="`flags` and `notes` in plain words, as the gallery shows them.",
    )

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
            "verdict",
            "flags",
            "notes",
            "warnings",
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


# Every error the API answers: a code to act on and a sentence to show. Documentation only: a
# field called `fields` would shadow Serializer.fields on a real class.
ApiError = inline_serializer(
    name="ApiError",
    fields={
        "error": serializers.CharField(help_text="A stable code: `invalid`, `not_found`..."),
        "detail": serializers.CharField(help_text="What went wrong, in words to show a person."),
        "missing": serializers.ListField(
            child=serializers.IntegerField(),
            required=False,
            help_text="Direct uploads: the part numbers still to send.",
        ),
        "fields": serializers.DictField(
            required=False, help_text="`invalid` only: every problem, by field."
        ),
    },
)


class PhotoPage(serializers.Serializer[None]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last.")
    previous = serializers.URLField(allow_null=True)
    results = PhotoOutput(many=True)


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


class PhotoStatusOutput(serializers.ModelSerializer[Photo]):
    """What a page needs to draw or redraw one tile: status, reason, flags, the preview files,
    and the name and upload time of a photo the page has not seen yet."""

    id = serializers.UUIDField(source="uid", read_only=True)
    reject_reason = _reject_reason()
    warnings = serializers.ListField(
        source="validator_warnings", child=serializers.CharField(), read_only=True
    )
    reject_words = serializers.CharField(
        read_only=True, help_text="Why the photo was stopped, in one line, as the gallery says it."
    )
    url = serializers.SerializerMethodField(help_text="The photo's page in the gallery.")
    thumbnail = serializers.SerializerMethodField()
    preview = serializers.SerializerMethodField()
    placeholder = serializers.CharField(
        source="preview_placeholder",
        read_only=True,
        help_text="What to show while there is no thumbnail (names the format of a RAW).",
    )

    class Meta:
        model = Photo
        fields = [
            "id",
            "url",
            "original_filename",
            "status",
            "reject_reason",
            "reject_detail",
            "reject_words",
            "warnings",
            "thumbnail",
            "preview",
            "placeholder",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, photo: Photo) -> str:
        return reverse("gallery:photo-detail", args=[photo.uid])

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail(self, photo: Photo) -> str | None:
        return _file_url(photo, "thumbnail")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_preview(self, photo: Photo) -> str | None:
        return _file_url(photo, "preview")


def _file_url(photo: Photo, kind: str) -> str | None:
    if not getattr(photo, kind):
        return None
    return reverse("gallery:photo-file", args=[photo.uid, kind])


class StatusFeedInput(serializers.Serializer[None]):
    since = serializers.DateTimeField(
        required=False,
        help_text="The `cursor` of the previous answer; leave out for every in-flight photo.",
    )


class StatusFeedOutput(serializers.Serializer[None]):
    cursor = serializers.DateTimeField(help_text="Send as `since` on the next read.")
    more = serializers.BooleanField(help_text="More changes wait: read again at once.")
    photos = PhotoStatusOutput(many=True)
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text=(
            "How many of your photos are in each status (statuses with none left out); null "
            "when nothing changed."
        ),
    )
