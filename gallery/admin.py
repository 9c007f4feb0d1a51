"""The curator admin: the Photo changelist and detail, with actions that each call one service,
plus the dashboard, the keyboard review queue and duplicate groups (admin_views.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from culling import services as culling_services
from gallery import admin_views, curation_services, selectors
from gallery.admin_filters import (
    CameraFilter,
    ClippingFilter,
    PhotographerFilter,
    ScoreRangeFilter,
    ValidatorFlagFilter,
)
from gallery.models import Photo, ReviewRequest, validator_flag_words
from gallery.request_user import signed_in_user
from pipeline import services as pipeline_services
from pipeline.config import IngestConfig

Status = Photo.Status


def thumbnail_url(photo: Photo) -> str:
    return reverse("gallery:photo-file", args=[photo.uid, "thumbnail"])


def preview_url(photo: Photo) -> str:
    return reverse("gallery:photo-file", args=[photo.uid, "preview"])


def validator_flag_badges(photo: Photo) -> SafeString:
    """One badge per validator flag or note, each explained in its title."""
    return format_html_join(
        "",
        ' <span class="pj-badge pj-flag" data-flag="{}" title="{}">{}</span>',
        (
            (code, validator_flag_words(code), Photo.ValidatorFlag(code).label)
            for code in photo.validator_flags + photo.validator_notes
        ),
    )


def _reject_reason_field(*, required: bool) -> forms.ChoiceField:
    # The photographer reads the reason: a reject always has one ("Other" and a note for the rest).
    return forms.ChoiceField(
        choices=[("", "— choose —"), *Photo.CuratorRejectReason.choices],
        required=required,
        label="Reason",
        error_messages={"required": "Choose a reason: the photographer sees it."},
    )


class RejectForm(forms.Form):
    reason = _reject_reason_field(required=True)
    note = forms.CharField(
        required=False, label="Note", widget=forms.Textarea(attrs={"rows": 2, "cols": 60})
    )


# The admin index is the curator's home: shoots to cull, the workspace, duplicates, the
# dashboard, and the "scoring is off" banner (the admin's own admin/index.html comes first in
# the template search, so it is named here).
admin.site.index_template = "admin/gallery/index.html"
admin.site.site_header = "Parjanya"
admin.site.site_title = "Parjanya"
admin.site.index_title = "Curator home"
# The sidebar repeats the home's list of models and costs the changelist 280 px: without it the
# photo table fits a 1400 px screen beside its filters.
admin.site.enable_nav_sidebar = False


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "photo",
        "owner",
        "camera",
        "verdict",
        "marks",
        "clipping_percent",
        "sharpness_value",
        "vlm_score_value",
        "captured",
    )
    list_display_links = ("photo",)
    list_filter = (
        "status",
        "reject_reason",
        "validator_verdict",
        ValidatorFlagFilter,
        ScoreRangeFilter,
        ClippingFilter,
        CameraFilter,
        PhotographerFilter,
        ("captured_at", admin.DateFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("original_filename", "camera_make", "camera_model", "owner__username")
    list_select_related = ("owner",)
    list_per_page = 50
    # The full count is a second COUNT over the whole table on every filtered page.
    show_full_result_count = False
    ordering = ("-created_at", "-id")
    actions = ("approve", "reject_with_reason", "revalidate", "rescore", "mark_not_duplicate")
    change_form_template = "admin/gallery/photo/change_form.html"
    change_list_template = "admin/gallery/photo/change_list.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "original_filename",
                    "owner",
                    "status",
                    "reject_reason",
                    "reject_detail",
                    "validator_verdict",
                    "duplicate_of",
                )
            },
        ),
        (
            "Curator",
            {
                "fields": (
                    "curator_decision",
                    "curator_reject_reason",
                    "stars",
                    "curator_label",
                    "curator_note",
                    "curated_by",
                    "curated_at",
                )
            },
        ),
        (
            "Measurements",
            {
                "fields": (
                    "sharpness_value",
                    "clipping_percent",
                    "luminance",
                    "vlm_score_value",
                    "model_name",
                    "model_runtime",
                )
            },
        ),
        (
            "File",
            {
                "classes": ("collapse",),
                "fields": (
                    "uid",
                    "format",
                    "size_bytes",
                    "sha256",
                    "width",
                    "height",
                    "phash",
                    "dhash",
                    "created_at",
                    "updated_at",
                ),
            },
        ),
    )

    # Every field is read-only: curators change photos through decisions (actions and the
    # buttons on the page), each of which is a service call that leaves an event.
    def get_readonly_fields(self, request: HttpRequest, obj: Photo | None = None) -> list[str]:
        return [str(name) for _, options in self.fieldsets for name in options["fields"]]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Deleting would orphan stored files and break duplicate links; rejection is the curator's
    # way to drop a photo.
    def has_delete_permission(self, request: HttpRequest, obj: Photo | None = None) -> bool:
        return False

    # --- columns -------------------------------------------------------------------------

    # Django renders this checkbox through the form widget templates, once per row: a third of
    # the changelist's time at 50 rows. The same markup, written directly.
    def action_checkbox(self, photo: Photo) -> SafeString:
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            helpers.ACTION_CHECKBOX_NAME,
            photo.pk,
            str(photo),
        )

    @admin.display(description="Photo", ordering="original_filename")
    def photo(self, photo: Photo) -> SafeString:
        if not photo.thumbnail:
            return format_html('<span class="pj-file">{}</span>', photo.original_filename)
        return format_html(
            '<img src="{}" alt="{}" loading="lazy" width="64" height="48" class="pj-thumb">'
            '<span class="pj-file">{}</span>',
            thumbnail_url(photo),
            photo.original_filename,
            photo.original_filename,
        )

    @admin.display(description="Camera", ordering="camera_model")
    def camera(self, photo: Photo) -> str:
        return photo.camera_name or "—"

    @admin.display(description="Status and reason", ordering="status")
    def verdict(self, photo: Photo) -> SafeString:
        status = format_html(
            '<span class="pj-badge pj-{}">{}</span>', photo.status, photo.get_status_display()
        )
        if photo.reject_reason:
            status = format_html(
                '{} <span class="pj-badge pj-reason" title="{}">{}</span>',
                status,
                photo.reject_detail,
                photo.get_reject_reason_display(),
            )
        return format_html("{}{}", status, validator_flag_badges(photo))

    @admin.display(description="Curator's marks")
    def marks(self, photo: Photo) -> SafeString | str:
        decision = {"approved": "Picked", "rejected": "Rejected"}.get(photo.curator_decision)
        parts = []
        if decision:
            parts.append(
                format_html(
                    '<span class="pj-badge pj-{}">{}</span>', photo.curator_decision, decision
                )
            )
        if photo.curator_rating:
            parts.append(format_html('<span class="pj-stars">★ {}</span>', photo.curator_rating))
        if photo.curator_label:
            parts.append(
                format_html(
                    '<span class="pj-badge pj-label-{}">{}</span>',
                    photo.curator_label,
                    photo.get_curator_label_display(),
                )
            )
        return format_html_join(" ", "{}", ((part,) for part in parts)) if parts else "—"

    @admin.display(description="Stars", ordering="curator_rating")
    def stars(self, photo: Photo) -> str:
        return f"★ {photo.curator_rating}" if photo.curator_rating else "—"

    @admin.display(description="Captured", ordering="captured_at")
    def captured(self, photo: Photo) -> str:
        return photo.captured_at.strftime("%Y-%m-%d %H:%M") if photo.captured_at else "—"

    @admin.display(description="Mean brightness")
    def luminance(self, photo: Photo) -> str:
        return "—" if photo.mean_luminance is None else f"{photo.mean_luminance:.2f}"

    @admin.display(description="Scored by")
    def model_name(self, photo: Photo) -> str:
        if not photo.vlm_model_id:
            return "—"
        revision = f" ({photo.vlm_model_revision[:12]})" if photo.vlm_model_revision else ""
        return f"{photo.vlm_model_id}{revision}"

    @admin.display(description="Scoring time")
    def model_runtime(self, photo: Photo) -> str:
        return "—" if photo.vlm_runtime_ms is None else f"{photo.vlm_runtime_ms:,.0f} ms"

    @admin.display(description="Clipped", ordering="highlight_clip")
    def clipping_percent(self, photo: Photo) -> str:
        if photo.highlight_clip is None and photo.shadow_clip is None:
            return "—"
        return f"▲{(photo.highlight_clip or 0) * 100:.1f}% ▼{(photo.shadow_clip or 0) * 100:.1f}%"

    @admin.display(description="Sharpness", ordering="sharpness")
    def sharpness_value(self, photo: Photo) -> str:
        return "—" if photo.sharpness is None else f"{photo.sharpness:.2f}"

    @admin.display(description="Model score", ordering="vlm_score")
    def vlm_score_value(self, photo: Photo) -> str:
        return "—" if photo.vlm_score is None else f"{photo.vlm_score:.2f}"

    # --- actions -------------------------------------------------------------------------

    @admin.action(description="Approve selected photos", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        for photo_id in ids:
            culling_services.photo_pick(photo_id=photo_id, curator=signed_in_user(request))
        self.message_user(request, f"Approved {len(ids)} photo(s).", messages.SUCCESS)

    @admin.action(description="Reject selected photos, with a reason…", permissions=["change"])
    def reject_with_reason(
        self, request: HttpRequest, queryset: QuerySet[Photo]
    ) -> TemplateResponse | None:
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            ids = list(queryset.values_list("pk", flat=True))
            for photo_id in ids:
                culling_services.photo_reject(
                    photo_id=photo_id,
                    curator=signed_in_user(request),
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                )
            self.message_user(request, f"Rejected {len(ids)} photo(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/gallery/photo/reject_action.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject photos",
                "opts": self.model._meta,
                "photos": queryset.select_related("owner"),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Re-validate (run ingest again)", permissions=["change"])
    def revalidate(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        self._rerun(request, queryset, curation_services.photo_revalidate, "re-validation")

    @admin.action(description="Re-score (send back to the GPU queue)", permissions=["change"])
    def rescore(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        if not settings.SCORING_ENABLED:
            # Queued now, they would wait for a scorer that is not there.
            self.message_user(
                request,
                "Nothing was queued: scoring is off (no model configured). Set VLM_MODEL_PATH "
                "and restart; see the README.",
                messages.ERROR,
            )
            return
        self._rerun(request, queryset, curation_services.photo_rescore, "re-scoring")

    def _rerun(
        self, request: HttpRequest, queryset: QuerySet[Photo], service: Any, what: str
    ) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        moved = sum(bool(service(photo_id=pk, curator=signed_in_user(request))) for pk in ids)
        self.message_user(request, f"Queued {moved} photo(s) for {what}.", messages.SUCCESS)
        if moved < len(ids):
            self.message_user(
                request,
                f"{len(ids) - moved} photo(s) left alone: a curator decided them, or they are "
                "already waiting for that stage.",
                messages.WARNING,
            )

    @admin.action(description='Mark "not a duplicate"', permissions=["change"])
    def mark_not_duplicate(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        done = 0
        config = IngestConfig.from_settings()
        for photo_id in queryset.values_list("pk", flat=True):
            try:
                pipeline_services.photo_mark_not_duplicate(
                    photo_id=photo_id,
                    curator=signed_in_user(request),
                    config=config,
                )
                done += 1
            except pipeline_services.NotADuplicate as error:
                self.message_user(request, str(error), messages.WARNING)
        if done:
            self.message_user(
                request, f"{done} photo(s) are no longer duplicates.", messages.SUCCESS
            )

    # --- pages ---------------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        photo = self.get_object(request, object_id)
        context: dict[str, Any] = dict(extra_context or {})
        if photo is not None:
            context.update(
                photo=photo,
                preview_url=preview_url(photo) if photo.preview else "",
                flag_badges=validator_flag_badges(photo),
                histogram=selectors.photo_luminance_histogram(photo=photo),
                exif=selectors.photo_exif_rows(photo=photo),
                events=selectors.photo_events(photo=photo),
                reject_reasons=Photo.CuratorRejectReason.choices,
                group_root=photo.duplicate_of
                if photo.duplicate_of_id
                else (photo if photo.duplicates.exists() else None),
                show_save=False,
                show_save_and_continue=False,
                show_save_and_add_another=False,
                show_delete=False,
            )
        return super().change_view(request, object_id, form_url, context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The photo's own history (its PhotoEvents), not the admin's log of form edits: every
        change to a photo is a service call that leaves an event, none goes through the form."""
        photo = self.get_object(request, object_id)
        if photo is None or not self.has_view_permission(request, photo):
            return super().history_view(request, object_id, extra_context)
        return TemplateResponse(
            request,
            "admin/gallery/photo/history.html",
            {
                **self.admin_site.each_context(request),
                "title": f"History of {photo.original_filename}",
                "opts": self.model._meta,
                "original": photo,
                "events": selectors.photo_events(photo=photo),
                **(extra_context or {}),
            },
        )

    def get_urls(self) -> list[URLPattern]:
        def wrap(view: Any) -> Any:
            return self.admin_site.admin_view(view)

        info = "gallery_photo"
        return [
            path("dashboard/", wrap(admin_views.dashboard(self)), name=f"{info}_dashboard"),
            path("review/", wrap(admin_views.review_queue(self)), name=f"{info}_review"),
            path(
                "review/<uuid:uid>/decide/",
                wrap(admin_views.review_decide(self)),
                name=f"{info}_decide",
            ),
            path(
                "review/<uuid:uid>/rate/",
                wrap(admin_views.review_rate(self)),
                name=f"{info}_rate",
            ),
            path(
                "duplicates/",
                wrap(admin_views.duplicate_groups(self)),
                name=f"{info}_duplicates",
            ),
            path(
                "duplicates/<uuid:uid>/",
                wrap(admin_views.duplicate_group(self)),
                name=f"{info}_duplicate_group",
            ),
            *super().get_urls(),
        ]


# --- Requests for a review: the photographer's note on a rejected photo, answered by deciding it.


class ReviewAnswerForm(forms.ModelForm):  # type: ignore[type-arg]
    decision = forms.ChoiceField(
        choices=Photo.CuratorDecision.choices, widget=forms.RadioSelect, label="Your decision"
    )
    reason = _reject_reason_field(required=False)
    answer = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Your answer to the photographer",
        help_text="Shown on the photo, under the photographer's request.",
    )

    class Meta:
        model = ReviewRequest
        fields = ("decision", "answer")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("decision") == Photo.CuratorDecision.REJECTED and not cleaned.get("reason"):
            self.add_error("reason", "Choose a reason: the photographer sees it.")
        return cleaned


class ReviewAnsweredFilter(admin.SimpleListFilter):
    title = "answer"
    parameter_name = "answered"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Waiting for an answer"), ("yes", "Answered")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("no", "yes"):
            return queryset.filter(answered_at__isnull=self.value() == "no")
        return queryset


@admin.register(ReviewRequest)
class ReviewRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The curators' queue of requests for a review: open ones first, oldest first. Answering
    is deciding the photo (culling.services), which closes the request."""

    form = ReviewAnswerForm
    list_display = ("photo_link", "note", "photographer", "created_at", "state")
    # The note opens the request; the photo column opens the photo.
    list_display_links = ("note",)
    list_filter = (ReviewAnsweredFilter,)
    list_select_related = ("photo", "photo__owner", "answered_by")
    # PostgreSQL sorts NULL first when descending: open requests lead.
    ordering = ("-answered_at", "created_at")
    readonly_fields = ("photo_link", "photographer", "status", "note", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm("gallery.view_photo"))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        answered = obj is not None and not obj.is_open
        return not answered and bool(request.user.has_perm("gallery.change_photo"))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        fields = ("photo_link", "photographer", "status", "note", "created_at")
        if obj is not None and not obj.is_open:
            return (*fields, "decision", "answer", "answered_by", "answered_at")
        return (*fields, "decision", "reason", "answer")

    @admin.display(description="photo")
    def photo_link(self, review: ReviewRequest) -> SafeString:
        photo = review.photo
        link = reverse("admin:gallery_photo_change", args=[photo.pk])
        if not photo.thumbnail:
            return format_html('<a href="{}">{}</a>', link, photo.original_filename)
        return format_html(
            '<a href="{}"><img src="{}" alt="" width="80" height="60" loading="lazy"> {}</a>',
            link,
            thumbnail_url(photo),
            photo.original_filename,
        )

    @admin.display(description="photographer")
    def photographer(self, review: ReviewRequest) -> str:
        return str(review.photo.owner)

    @admin.display(description="status and reason")
    def status(self, review: ReviewRequest) -> str:
        photo = review.photo
        why = photo.reject_detail or photo.get_reject_reason_display()
        return f"{photo.get_status_display()}: {why}"

    @admin.display(description="answer")
    def state(self, review: ReviewRequest) -> str:
        if review.is_open:
            return "Waiting"
        return f"{review.get_decision_display()} by {review.answered_by}"

    def save_model(self, request: HttpRequest, obj: ReviewRequest, form: Any, change: bool) -> None:
        curator, answer = signed_in_user(request), form.cleaned_data["answer"]
        if form.cleaned_data["decision"] == Photo.CuratorDecision.REJECTED:
            culling_services.photo_reject(
                photo_id=obj.photo_id,
                curator=curator,
                reason=form.cleaned_data["reason"],
                note=answer,
            )
        else:
            culling_services.photo_pick(photo_id=obj.photo_id, curator=curator, note=answer)
