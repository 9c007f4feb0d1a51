"""Curator pages beyond the changelist, mounted by PhotoAdmin.get_urls() inside
admin_site.admin_view (staff only). Each view takes the PhotoAdmin for its site context and
permission checks; every write is one service call."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from culling import services as culling_services
from gallery import curation_services, selectors, shoot_selectors
from gallery.models import Photo, Shoot
from gallery.query_params import MAX_ID, positive_int
from gallery.request_user import signed_in_user
from pipeline import services as pipeline_services
from pipeline.config import IngestConfig
from pipeline.costs import Deployment, Prices, cost_report, with_overrides
from pipeline.selectors import PRE_GPU_REASONS, recorded_usage_get

View = Callable[..., HttpResponse]
# The views take the Photo admin they are mounted on, for its site, permissions and options.
PhotoAdmin: TypeAlias = "admin.ModelAdmin[Photo]"
Status = Photo.Status
READY = "ready"
# Shoots offered in the dashboard's picker, newest first.
DASHBOARD_SHOOTS = 100
# The review queue's choices: the default is everything the pipeline has finished with and kept,
# scored or not (without a model configured, nothing is ever scored).
REVIEW_QUEUES: dict[str, tuple[str, tuple[str, ...]]] = {
    READY: ("Ready for review (scored or not scored)", (Status.SCORED, Status.UNSCORED)),
    **{
        status.value: (str(status.label), (status.value,))
        for status in (
            Status.SCORED,
            Status.UNSCORED,
            Status.AWAITING_SCORE,
            Status.REJECTED,
            Status.FAILED,
        )
    },
}


def _context(model_admin: PhotoAdmin, request: HttpRequest, title: str) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
    }


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def dashboard(model_admin: PhotoAdmin) -> View:
    """The whole library, or one shoot (?shoot=<id>)."""

    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        _require(model_admin.has_view_permission(request))
        raw = request.GET.get("shoot", "")
        shoot_pk = positive_int(raw, maximum=MAX_ID) if raw else None
        if raw and shoot_pk is None:
            raise Http404("No such shoot.")
        shoot = get_object_or_404(Shoot, pk=shoot_pk) if shoot_pk else None
        shoot_id = shoot.pk if shoot else None
        status_counts = selectors.photo_status_counts(shoot_id=shoot_id)
        reason_counts = selectors.photo_reason_counts(shoot_id=shoot_id)
        title = f"Pipeline dashboard: {shoot.name}" if shoot else "Pipeline dashboard"
        context = _context(model_admin, request, title)
        context.update(
            statuses=[(value, label, status_counts[value]) for value, label in Status.choices],
            reasons=[
                (value, label, reason_counts[value]) for value, label in Photo.RejectReason.choices
            ],
            distribution=selectors.photo_score_distribution(shoot_id=shoot_id),
            gpu=_gpu_figures(shoot_id=shoot_id, status_counts=status_counts),
            # Without a bucket or a GPU fleet nothing is billed: the dollar lines do not apply.
            local=not settings.AWS_STORAGE_BUCKET_NAME and not settings.GPU_FLEET_ASG_NAME,
            shoot=shoot,
            shoots=shoot_selectors.shoots_for_curation()[:DASHBOARD_SHOOTS],
        )
        return TemplateResponse(request, "admin/gallery/photo/dashboard.html", context)

    return view


def _gpu_figures(*, shoot_id: int | None, status_counts: dict[str, int]) -> Any:
    """The cost report's GPU figures (what the pipeline stopped counted from the event history,
    see selectors.pipeline_rejections_by_reason). For one shoot, its own frames, at the GPU time
    per frame measured over the whole library."""
    usage = recorded_usage_get()
    if shoot_id is not None:
        usage = dataclasses.replace(
            usage,
            rejected_before_gpu=selectors.pipeline_rejections_by_reason(
                reasons=PRE_GPU_REASONS, shoot_id=shoot_id
            ),
            frames_ingested=sum(status_counts.values()) - status_counts[Status.UPLOADED],
            frames_paired=status_counts[Status.PAIRED],
        )
    return cost_report(
        usage,
        prices=with_overrides(Prices(), settings.COST_REPORT_PRICES),
        deployment=with_overrides(Deployment(), settings.COST_REPORT_DEPLOYMENT),
    ).gpu


def _queue_item(photo: Photo) -> dict[str, Any]:
    return {
        **selectors.photo_console_item(photo=photo),
        "status": photo.status,
        "statusLabel": photo.get_status_display(),
        "score": photo.vlm_score,
        "sharpness": photo.sharpness,
        "rating": photo.curator_rating,
        "flags": [Photo.ValidatorFlag(code).label for code in photo.validator_flags],
        "notes": [Photo.ValidatorFlag(code).label for code in photo.validator_notes],
    }


def review_queue(model_admin: PhotoAdmin) -> View:
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        _require(model_admin.has_change_permission(request))
        status = request.GET.get("status", "")
        if status not in REVIEW_QUEUES:
            status = READY
        flag = request.GET.get("flag") or None
        if flag not in Photo.ValidatorFlag.values:
            flag = None
        photos = selectors.photo_list_for_review(statuses=REVIEW_QUEUES[status][1], flag=flag)
        placeholder = "00000000-0000-0000-0000-000000000000"
        context = _context(model_admin, request, "Review queue")
        context.update(
            queue=[_queue_item(photo) for photo in photos],
            status=status,
            statuses=[(key, label) for key, (label, _) in REVIEW_QUEUES.items()],
            flag=flag,
            flags=Photo.ValidatorFlag.choices,
            decide_url=reverse("admin:gallery_photo_decide", args=[placeholder]),
            rate_url=reverse("admin:gallery_photo_rate", args=[placeholder]),
            placeholder=placeholder,
            reject_reasons=Photo.CuratorRejectReason.choices,
        )
        return TemplateResponse(request, "admin/gallery/photo/review.html", context)

    return view


def review_decide(model_admin: PhotoAdmin) -> View:
    """Approve or reject one photo; answers JSON for the review queue, or redirects back for a
    plain form post (the detail page's buttons)."""

    @require_POST
    def view(request: HttpRequest, uid: str) -> HttpResponse:
        _require(model_admin.has_change_permission(request))
        photo = get_object_or_404(Photo, uid=uid)
        decision = request.POST.get("decision", "")
        if decision not in Photo.CuratorDecision.values:
            return JsonResponse({"error": "decision must be approved or rejected"}, status=400)
        curator, note = signed_in_user(request), request.POST.get("note", "")
        try:
            if decision == Photo.CuratorDecision.REJECTED:
                photo = culling_services.photo_reject(
                    photo_id=photo.pk,
                    curator=curator,
                    reason=request.POST.get("reason", ""),
                    note=note,
                )
            else:
                photo = culling_services.photo_pick(photo_id=photo.pk, curator=curator, note=note)
        except culling_services.DecisionError as error:
            if request.POST.get("next") == "change":
                # The photo page's form: back to it, with the refusal in words.
                messages.error(request, f"{photo.original_filename}: {error}.")
                return redirect("admin:gallery_photo_change", photo.pk)
            return JsonResponse({"error": str(error)}, status=400)
        if request.POST.get("next") == "change":
            messages.success(request, f"{photo.original_filename}: {photo.get_status_display()}.")
            return redirect("admin:gallery_photo_change", photo.pk)
        return JsonResponse(_queue_item(photo))

    return view


def review_rate(model_admin: PhotoAdmin) -> View:
    @require_POST
    def view(request: HttpRequest, uid: str) -> HttpResponse:
        _require(model_admin.has_change_permission(request))
        photo = get_object_or_404(Photo, uid=uid)
        raw = request.POST.get("rating", "")
        # Empty clears the stars, as 0 does.
        stars = 0 if raw in ("", "0") else positive_int(raw, maximum=5)
        if stars is None:
            return JsonResponse({"error": "a rating is 0 to 5 stars"}, status=400)
        photo = culling_services.photo_set_rating(
            photo_id=photo.pk, curator=signed_in_user(request), stars=stars
        )
        return JsonResponse(_queue_item(photo))

    return view


def duplicate_groups(model_admin: PhotoAdmin) -> View:
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        _require(model_admin.has_view_permission(request))
        groups = selectors.duplicate_group_list().prefetch_related("duplicates")
        page = Paginator(groups, 20).get_page(request.GET.get("page"))
        context = _context(model_admin, request, "Duplicate groups")
        context.update(page=page)
        return TemplateResponse(request, "admin/gallery/photo/duplicate_groups.html", context)

    return view


def duplicate_group(model_admin: PhotoAdmin) -> View:
    """One group side by side. POST `keep=<uid>` keeps that photo and rejects the rest;
    POST `not_duplicate=<uid>` takes one photo out of the group."""

    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, uid: str) -> HttpResponse:
        _require(model_admin.has_view_permission(request))
        root = get_object_or_404(Photo.objects.select_related("owner"), uid=uid)
        members = selectors.duplicate_group_members(root=root)
        if len(members) < 2:
            raise Http404("no duplicates left in this group")
        by_uid = {str(m.uid): m for m in members}
        if request.method == "POST":
            _require(model_admin.has_change_permission(request))
            return _apply_group_decision(request, root=root, by_uid=by_uid)
        keeper = selectors.duplicate_group_suggested_keeper(photos=members)
        context = _context(model_admin, request, f"Duplicates of {root.original_filename}")
        context.update(
            root=root,
            members=[
                (
                    card.photo,
                    reverse("gallery:photo-file", args=[card.photo.uid, "preview"])
                    if card.photo.preview
                    else "",
                    card.same_file,
                )
                for card in selectors.duplicate_group_cards(photos=members)
            ],
            keeper=keeper,
            keep_suggested=f"Keep the suggested photo ({keeper.original_filename}) and reject "
            f"{_rejected_with(keeper, members)}",
        )
        return TemplateResponse(request, "admin/gallery/photo/duplicate_group.html", context)

    return view


def _rejected_with(keeper: Photo, members: Sequence[Photo]) -> str:
    """What keeping `keeper` rejects, in words: an identical copy is named as one, so a group
    of two uploads of one file does not read as "the other 0"."""
    copies = selectors.duplicate_group_identical_copies(photo=keeper, photos=members)
    different = len(members) - 1 - len(copies)
    parts: list[str] = []
    if different:
        parts.append("the other photo" if different == 1 else f"the other {different} photos")
    if len(copies) == 1:
        parts.append(f"its identical copy ({copies[0].original_filename})")
    elif copies:
        parts.append(f"its {len(copies)} identical copies")
    return " and ".join(parts)


def _apply_group_decision(
    request: HttpRequest, *, root: Photo, by_uid: dict[str, Photo]
) -> HttpResponse:
    curator = signed_in_user(request)
    if keep := request.POST.get("keep"):
        if keep not in by_uid:
            raise Http404
        keeper = curation_services.duplicate_group_keep(
            keeper_id=by_uid[keep].pk,
            member_ids=[m.pk for m in by_uid.values()],
            curator=curator,
        )
        messages.success(
            request,
            f"Kept {keeper.original_filename}; "
            f"rejected {_rejected_with(keeper, list(by_uid.values()))}.",
        )
        return redirect("admin:gallery_photo_duplicates")
    if (other := request.POST.get("not_duplicate")) and other in by_uid:
        try:
            photo = pipeline_services.photo_mark_not_duplicate(
                photo_id=by_uid[other].pk,
                curator=curator,
                config=IngestConfig.from_settings(),
            )
        except pipeline_services.NotADuplicate as error:
            messages.warning(request, str(error))
        else:
            messages.success(request, f"{photo.original_filename} is no longer a duplicate.")
        if len(by_uid) > 2:
            return redirect("admin:gallery_photo_duplicate_group", root.uid)
        return redirect("admin:gallery_photo_duplicates")
    return JsonResponse({"error": "post keep=<id> or not_duplicate=<id>"}, status=400)
