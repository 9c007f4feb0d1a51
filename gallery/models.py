"""Photos and their audit trail. Status is the single source of truth for where a photo is."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from pipeline.core.formats import RAW_FORMATS, ImageFormat
from pipeline.core.validator import (
    FLAG_POSSIBLY_OVEREXPOSED,
    FLAG_POSSIBLY_SOFT,
    FLAG_POSSIBLY_UNDEREXPOSED,
    NOTE_TRAILING_DATA,
    Verdict,
)

# Each validator flag or note code and the boolean column on Photo that records it.
VALIDATOR_FLAG_FIELDS: dict[str, str] = {
    FLAG_POSSIBLY_SOFT: "flag_possibly_soft",
    FLAG_POSSIBLY_OVEREXPOSED: "flag_possibly_overexposed",
    FLAG_POSSIBLY_UNDEREXPOSED: "flag_possibly_underexposed",
    NOTE_TRAILING_DATA: "note_trailing_data",
}
NOTE_CODES: tuple[str, ...] = (NOTE_TRAILING_DATA,)
FLAG_CODES: tuple[str, ...] = tuple(c for c in VALIDATOR_FLAG_FIELDS if c not in NOTE_CODES)


class Shoot(models.Model):
    """A photographer's session: by default every frame captured on one day (the upload day when
    the file records no capture time). Curators rename, merge and split shoots."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shoots"
    )
    name = models.CharField(max_length=200)
    capture_day = models.DateField()
    # The shoot new uploads of (owner, capture_day) go to; a split-off shoot is never the default.
    is_day_default = models.BooleanField(default=False)
    # Set when a curator merged this shoot into another: its photos moved there, and so do later
    # uploads of its day. Merged shoots are hidden from listings.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-capture_day", "-id"]
        indexes = [models.Index(fields=["owner", "-capture_day"], name="shoot_owner_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "capture_day"],
                condition=models.Q(is_day_default=True),
                name="shoot_one_default_per_day",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stack(models.Model):
    """Consecutive, visually similar frames from one camera within a shoot (a burst)."""

    shoot = models.ForeignKey(Shoot, on_delete=models.CASCADE, related_name="stacks")
    # Body serial when the camera records one, else make and model: see pipeline/core/stacking.py.
    camera_key = models.CharField(max_length=300)
    best_photo = models.ForeignKey(
        "Photo", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A curator split, merged or built this stack: automatic stacking never adds to, removes
    # from or otherwise changes its membership (its suggested best frame is still re-ranked).
    manual = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shoot", "id"]

    def __str__(self) -> str:
        return f"Stack {self.pk} ({self.camera_key})"


class Photo(models.Model):
    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        AWAITING_SCORE = "awaiting_score", "Awaiting score"
        # The RAW or JPEG twin of a frame already in the pipeline: one frame is scored once.
        PAIRED = "paired", "Paired with its RAW/JPEG twin"
        SCORED = "scored", "Scored"
        # Passed the validator while no scorer was configured: reviewable now, scored later by
        # `backfill --stage score`. Short enough for a chip on a phone; UNSCORED_HELP says why.
        UNSCORED = "unscored", "Ready for review (not scored)"
        REJECTED = "rejected", "Rejected"
        APPROVED = "approved", "Approved"
        FAILED = "failed", "Failed"

    class RejectReason(models.TextChoices):
        UNREADABLE = "unreadable", "Unreadable"
        DUPLICATE = "duplicate", "Duplicate"
        BLURRY = "blurry", "Blurry"
        OVEREXPOSED = "overexposed", "Overexposed"
        UNDEREXPOSED = "underexposed", "Underexposed"
        LOW_SCORE = "low_score", "Low score"
        CURATOR = "curator", "Rejected by curator"
        ERROR = "error", "Processing error"

    class ValidatorVerdict(models.TextChoices):
        PASS = Verdict.PASS.value, "Passed"
        # Doubtful evidence: the frame went on to scoring, flagged (see ValidatorFlag).
        BORDERLINE = Verdict.BORDERLINE.value, "Borderline: flagged, sent on"
        REJECT = Verdict.REJECT.value, "Rejected"

    class ValidatorFlag(models.TextChoices):
        """What the validator doubted about a frame it did not reject (the core's FLAG_* codes),
        and what it noticed about the file itself (NOTE_* codes). Each is a boolean column,
        `VALIDATOR_FLAG_FIELDS`, so filtering on one is an indexed equality on any database."""

        POSSIBLY_SOFT = FLAG_POSSIBLY_SOFT, "Possibly soft"
        POSSIBLY_OVEREXPOSED = FLAG_POSSIBLY_OVEREXPOSED, "Possibly overexposed"
        POSSIBLY_UNDEREXPOSED = FLAG_POSSIBLY_UNDEREXPOSED, "Possibly underexposed"
        TRAILING_DATA = NOTE_TRAILING_DATA, "Extra data after the image"

    class CuratorDecision(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class CuratorRejectReason(models.TextChoices):
        """The presets a curator rejects with, one key away in the workspace; the photographer
        reads the label (and the curator's note) as the photo's reject detail."""

        OUT_OF_FOCUS = "out_of_focus", "Out of focus"
        EYES_CLOSED = "eyes_closed", "Eyes closed"
        MOTION_BLUR = "motion_blur", "Motion blur"
        BAD_EXPOSURE = "bad_exposure", "Bad exposure"
        DUPLICATE = "duplicate", "Duplicate or very similar"
        COMPOSITION = "composition", "Composition"
        OTHER = "other", "Other"

    class Label(models.TextChoices):
        """Colour labels, in Lightroom's order (keys 6-9 in the workspace; purple by pointer)."""

        RED = "red", "Red"
        YELLOW = "yellow", "Yellow"
        GREEN = "green", "Green"
        BLUE = "blue", "Blue"
        PURPLE = "purple", "Purple"

    # The public id: URLs and storage keys never expose the sequential primary key.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos"
    )

    # Indexed: the dedup index and the Lambda's results name a photo by its storage key.
    original = models.FileField(max_length=255, db_index=True)
    original_filename = models.CharField(max_length=255)
    format = models.CharField(max_length=16, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADED)
    reject_reason = models.CharField(max_length=20, choices=RejectReason.choices, blank=True)
    reject_detail = models.TextField(blank=True)

    camera_make = models.CharField(max_length=100, blank=True)
    camera_model = models.CharField(max_length=100, blank=True)
    # Exif BodySerialNumber (or DNG CameraSerialNumber): tells two bodies of one model apart.
    camera_serial = models.CharField(max_length=100, blank=True)
    lens = models.CharField(max_length=200, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    iso = models.PositiveIntegerField(null=True, blank=True)
    exposure_time_s = models.FloatField(null=True, blank=True)
    f_number = models.FloatField(null=True, blank=True)
    focal_length_mm = models.FloatField(null=True, blank=True)
    orientation = models.PositiveSmallIntegerField(null=True, blank=True)
    gps_lat = models.FloatField(null=True, blank=True)
    gps_lon = models.FloatField(null=True, blank=True)
    gps_alt = models.FloatField(null=True, blank=True)

    sharpness = models.FloatField(null=True, blank=True)
    highlight_clip = models.FloatField(null=True, blank=True)
    shadow_clip = models.FloatField(null=True, blank=True)
    mean_luminance = models.FloatField(null=True, blank=True)
    validator_metrics = models.JSONField(default=dict, blank=True)
    validator_reasons = models.JSONField(default=list, blank=True)
    validator_verdict = models.CharField(
        max_length=10, choices=ValidatorVerdict.choices, blank=True
    )
    flag_possibly_soft = models.BooleanField(default=False)
    flag_possibly_overexposed = models.BooleanField(default=False)
    flag_possibly_underexposed = models.BooleanField(default=False)
    note_trailing_data = models.BooleanField(default=False)
    # 64-bit perceptual hashes as signed BIGINT: see pipeline/core/hashcode.py.
    phash = models.BigIntegerField(null=True, blank=True)
    dhash = models.BigIntegerField(null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    paired_with = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="pair_members"
    )
    # Estimated from the JPEG quantisation tables (pipeline/core/compression.py); None for
    # files that are not JPEG. Ranks copies of one frame: less compression wins.
    jpeg_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    shoot = models.ForeignKey(
        Shoot, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    stack = models.ForeignKey(
        Stack, null=True, blank=True, on_delete=models.SET_NULL, related_name="photos"
    )
    # A curator took this photo out of a stack (split or dissolve): automatic stacking leaves
    # it alone.
    stack_locked = models.BooleanField(default=False)
    preview = models.FileField(max_length=255, blank=True)
    thumbnail = models.FileField(max_length=255, blank=True)

    vlm_score = models.FloatField(null=True, blank=True)
    vlm_model_id = models.CharField(max_length=200, blank=True)
    vlm_model_revision = models.CharField(max_length=64, blank=True)
    vlm_runtime_ms = models.FloatField(null=True, blank=True)
    awaiting_score_since = models.DateTimeField(null=True, blank=True)
    scoring_lease_owner = models.CharField(max_length=100, blank=True)
    scoring_lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When the broker last accepted this photo's ingest message (or a reset that sends one
    # began); empty while none was accepted (the broker was down). The ingest reconciler
    # re-sends photos still `uploaded` long after.
    ingest_queued_at = models.DateTimeField(null=True, blank=True)

    curator_decision = models.CharField(max_length=10, choices=CuratorDecision.choices, blank=True)
    curator_note = models.TextField(blank=True)
    curator_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    curator_reject_reason = models.CharField(
        max_length=20, choices=CuratorRejectReason.choices, blank=True
    )
    curator_label = models.CharField(max_length=10, choices=Label.choices, blank=True)
    curated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="curated_photos",
    )
    curated_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["owner", "status", "-created_at"], name="photo_owner_status_created"
            ),
            models.Index(fields=["owner", "-created_at"], name="photo_owner_created"),
            # The status feed: one owner's photos changed since a cursor.
            models.Index(fields=["owner", "updated_at"], name="photo_owner_updated"),
            models.Index(fields=["status", "reject_reason"], name="photo_status_reason"),
            models.Index(fields=["owner", "sha256"], name="photo_owner_sha256"),
            # Curator admin: score-range and camera filters, sorting by capture time.
            models.Index(fields=["vlm_score"], name="photo_vlm_score"),
            models.Index(fields=["camera_model"], name="photo_camera_model"),
            models.Index(fields=["captured_at"], name="photo_captured_at"),
            # Stacking's neighbour query: one photographer's frames around a capture time.
            models.Index(fields=["owner", "captured_at"], name="photo_owner_captured"),
            # Validator flags: a few percent of the library each, so a partial index per flag
            # is small and serves the admin, gallery and API filters, newest first.
            *(
                models.Index(
                    fields=["-created_at"],
                    condition=models.Q(**{column: True}),
                    name=f"photo_{code}",
                )
                for code, column in VALIDATOR_FLAG_FIELDS.items()
            ),
            # The GPU worker's claim query: oldest waiting first.
            models.Index(
                fields=["awaiting_score_since", "id"],
                condition=models.Q(status="awaiting_score"),
                name="photo_scoring_queue",
            ),
            # The ingest reconciler's scan: only photos still waiting for their ingest.
            models.Index(
                fields=["ingest_queued_at", "created_at"],
                condition=models.Q(status="uploaded"),
                name="photo_ingest_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.status})"

    @property
    def reject_words(self) -> str:
        """Why the photo was stopped, in one line. A curator's reject names the curator and the
        preset reason ("Rejected by the curator: Motion blur"); the note is shown on its own."""
        if self.reject_reason == self.RejectReason.CURATOR:
            reason = self.get_curator_reject_reason_display() if self.curator_reject_reason else ""
            return ": ".join(part for part in ("Rejected by the curator", str(reason)) if part)
        return self.reject_detail or str(self.get_reject_reason_display())

    @property
    def in_flight(self) -> bool:
        """The pipeline may still move it (and give it a preview)."""
        return self.status in IN_FLIGHT_STATUSES

    @property
    def is_raw(self) -> bool:
        return self.format in {fmt.value for fmt in RAW_FORMATS}

    @property
    def format_label(self) -> str:
        """The format as photographers name it: "JPEG", "NEF"; empty when not known yet."""
        try:
            return ImageFormat(self.format).name
        except ValueError:
            return ""

    @property
    def preview_placeholder(self) -> str:
        """What stands in a tile without a thumbnail: a RAW says which RAW it is, so a card of
        NEFs without embedded previews does not read as a gallery still loading."""
        if self.is_raw:
            if self.in_flight:
                return f"{self.format_label} RAW · preview on its way"
            return f"{self.format_label} RAW · no preview"
        return "No preview yet" if self.in_flight else "No preview"

    @property
    def camera_name(self) -> str:
        return camera_name(self.camera_make, self.camera_model)

    @property
    def orientation_words(self) -> str:
        return ORIENTATION_WORDS.get(self.orientation or 0, "")

    @property
    def validator_flags(self) -> list[str]:
        """The FLAG_* codes set on this photo, in `ValidatorFlag` order."""
        return [code for code in FLAG_CODES if getattr(self, VALIDATOR_FLAG_FIELDS[code])]

    @property
    def validator_notes(self) -> list[str]:
        """The NOTE_* codes set on this photo."""
        return [code for code in NOTE_CODES if getattr(self, VALIDATOR_FLAG_FIELDS[code])]

    @property
    def validator_warnings(self) -> list[str]:
        """The flags and notes in plain words, for the photographer."""
        return [validator_flag_words(code) for code in self.validator_flags + self.validator_notes]


UNSCORED_HELP = (
    "Not scored because no scoring model is configured on this server; it is scored once one is."
)

# Statuses the pipeline may still change: pages keep following photos in these.
IN_FLIGHT_STATUSES: tuple[str, ...] = (Photo.Status.UPLOADED, Photo.Status.AWAITING_SCORE)

# EXIF Orientation (1-8) as a photographer says it: how the stored pixels are turned for viewing.
ORIENTATION_WORDS: dict[int, str] = {
    1: "Upright",
    2: "Mirrored left to right",
    3: "Upside down (turned 180°)",
    4: "Mirrored top to bottom",
    5: "Mirrored, then turned 90° counter-clockwise",
    6: "Turned 90° clockwise (portrait)",
    7: "Mirrored, then turned 90° clockwise",
    8: "Turned 90° counter-clockwise (portrait)",
}
# Company words cameras add to their EXIF Make ("NIKON CORPORATION", "OLYMPUS IMAGING CORP.").
_MAKE_SUFFIXES = frozenset(
    {"ag", "co", "co.", "company", "corp", "corp.", "corporation", "electric", "gmbh", "imaging"}
    | {"inc", "inc.", "limited", "ltd", "ltd.", "camera", "optical"}
)


def camera_name(make: str, model: str) -> str:
    """Make and model without saying the maker twice: "Canon" + "Canon EOS 6D" is "Canon EOS
    6D", "NIKON CORPORATION" + "NIKON D70" is "NIKON D70", "OLYMPUS IMAGING CORP." + "E-M5"
    is "OLYMPUS E-M5"."""
    words = make.replace(",", " ").split()
    while len(words) > 1 and words[-1].lower() in _MAKE_SUFFIXES:
        words.pop()
    brand = " ".join(words)
    model = model.strip()
    if not brand:
        return model
    if not model:
        return brand
    if model.lower().startswith(words[0].lower()):
        return model
    return f"{brand} {model}"


def validator_flag_words(code: str) -> str:
    """A flag or note as the photographer reads it: what it is, and what happened to the photo
    (true whether a scoring model is configured or not)."""
    label = Photo.ValidatorFlag(code).label
    if code in NOTE_CODES:
        return f"{label}: the photo was read normally and the file is kept as uploaded"
    return f"{label} — passed, flagged for the curator"


def curator_reject_detail(reason: str, note: str) -> str:
    """What the photographer reads on a curator's reject: the preset reason's words, then the
    curator's note ("Motion blur: panning too slow")."""
    label = str(Photo.CuratorRejectReason(reason).label) if reason else ""
    return ": ".join(part for part in (label, note.strip()) if part)


class PhotoEvent(models.Model):
    """One row per status change or curator decision: who or what moved the photo, from where,
    to where, and why. A curator's decision (pick, reject, unflag, stars, label) also carries
    the marks before and after it, so undo can put them back."""

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    cause = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    # The reject reason the move recorded (Photo.RejectReason), so what the pipeline stopped is
    # counted from the history even after a curator changed the photo.
    reason = models.CharField(max_length=20, blank=True)
    # Curator decisions only: the photo's marks (culling.services.MARK_FIELDS) before and after.
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    # Set when a curator undid this decision (the undo is an event of its own).
    undone_at = models.DateTimeField(null=True, blank=True)
    # Set when an undo found the photo changed by someone since: the decision can no longer be
    # undone, and the curator's next undo goes on to the one before it.
    undo_refused_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The dashboard's "last thing the pipeline did to each photo" (actor is empty).
            models.Index(
                fields=["photo", "-created_at", "-id"],
                condition=models.Q(actor__isnull=True),
                name="event_pipeline_last",
            ),
            # A curator's undo: their latest decisions not yet undone.
            models.Index(
                fields=["actor", "-created_at", "-id"],
                condition=models.Q(undone_at__isnull=True, undo_refused_at__isnull=True),
                name="event_curator_undo",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}: {self.cause}"


class ReviewRequest(models.Model):
    """A photographer asking a curator for a second look at a rejected photo, with a note; the
    curator's decision on the photo answers it. One open request per photo at a time."""

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="review_requests")
    note = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=10, choices=Photo.CuratorDecision.choices, blank=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="answered_reviews",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["photo"],
                condition=models.Q(answered_at__isnull=True),
                name="review_one_open_per_photo",
            )
        ]
        indexes = [
            # The curators' queue: open requests, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(answered_at__isnull=True),
                name="review_open_queue",
            )
        ]

    def __str__(self) -> str:
        return f"Review of {self.photo.original_filename}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None

    @property
    def superseded(self) -> bool:
        """Answered, and a curator has decided the photo otherwise since."""
        return self.answered_at is not None and self.decision != self.photo.curator_decision

    @property
    def answer_stands(self) -> bool:
        return self.answered_at is not None and not self.superseded
