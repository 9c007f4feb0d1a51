"""The culling workspace for curators: thin views over culling.selectors, services and exports.
Every page needs a staff account with the Photo permissions; writes answer JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from culling import exports, loupe, selectors, services
from gallery import shoot_selectors, shoot_services
from gallery.models import Photo, Shoot, Stack
from gallery.query_params import MAX_ID, positive_int
from gallery.request_user import signed_in_user

View = Callable[..., HttpResponseBase]


def _curator(permission: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @staff_member_required
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(f"gallery.{permission}_photo"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return checked

    return decorate


@_curator("view")
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "culling/home.html",
        {
            # The admin's own frame (Parjanya header, log out, scoring banner), as on its pages.
            **admin.site.each_context(request),
            "shoots": shoot_selectors.shoots_for_curation(),
            "undecided": selectors.undecided_count(),
        },
    )


def _scope(params: QueryDict, fixed: dict[str, int]) -> selectors.Scope:
    """`fixed`: the shoot or stack in view, named as the export links name it ({"shoot": id})."""
    ids = tuple(i for i in params.get("ids", "").split(",") if _is_uid(i))
    chosen = params.get("filter", "")
    return selectors.Scope(
        uids=ids,
        filter=chosen if chosen in selectors.FILTERS else "",
        **{f"{name}_id": value for name, value in fixed.items()},
    )


def _is_uid(value: str) -> bool:
    return len(value) == 36 and all(c in "0123456789abcdef-" for c in value.lower())


def _workspace(
    request: HttpRequest,
    *,
    title: str,
    back: str,
    fixed: dict[str, int],
    **extra: Any,
) -> HttpResponse:
    """The frames of the shoot or stack `fixed` names, or else of the chosen ids; the export
    links carry the same scope."""
    scope = _scope(request.GET, fixed)
    export_params: dict[str, Any] = dict(fixed)
    if not fixed and scope.uids:
        export_params["ids"] = ",".join(scope.uids)
    try:
        photos = list(selectors.scope_photos(scope)[: selectors.MAX_FRAMES + 1])
    except selectors.SelectionTooLarge as error:
        return _plain(str(error), status=400)
    more = len(photos) > selectors.MAX_FRAMES
    photos = photos[: selectors.MAX_FRAMES]
    # The Export menu covers the whole set being culled, whatever the view shows: opened on the
    # undecided frames, the sidecars still carry the picks and rejects just made.
    base = reverse("culling:export", args=["xmp.zip"]).removesuffix("xmp.zip")
    stack, shoot = extra.get("stack"), extra.get("shoot")
    stack_change_url = reverse("culling:stack-change", args=[stack.pk]) if stack else ""
    exports_links = [
        (label, f"{base}{kind}?{urlencode(export_params)}")
        for kind, label in (
            ("xmp.zip", "XMP sidecars (ZIP)"),
            ("decisions.csv", "Decisions (CSV)"),
            ("originals.zip", "Picked originals (ZIP)"),
        )
    ]
    return render(
        request,
        "culling/workspace.html",
        {
            "title": title,
            "frames": selectors.frames(photos),
            "filter": scope.filter,
            "filters": [(key, label) for key, (label, _) in selectors.FILTERS.items()],
            "reasons": list(Photo.CuratorRejectReason.choices),
            "labels": list(Photo.Label.choices),
            "back": back,
            "exports": exports_links,
            "more": more,
            "max_frames": selectors.MAX_FRAMES,
            "export_base": base,
            "urls": {
                "decide": reverse("culling:decide", args=["00000000-0000-0000-0000-000000000000"]),
                "undo": reverse("culling:undo"),
                "stack": reverse("culling:stack", args=[0]).removesuffix("0/"),
                "stackChange": stack_change_url,
                "shootChange": reverse("culling:shoot-change", args=[shoot.pk]) if shoot else "",
            },
            **extra,
        },
    )


@_curator("change")
@require_GET
def workspace_all(request: HttpRequest) -> HttpResponse:
    return _workspace(request, title="Every frame to cull", back=reverse("culling:home"), fixed={})


@_curator("change")
@require_GET
def workspace_shoot(request: HttpRequest, shoot_id: int) -> HttpResponse:
    shoot = get_object_or_404(Shoot.objects.select_related("owner"), pk=shoot_id)
    return _workspace(
        request,
        title=f"{shoot.name} — {shoot.owner.get_username()}",
        back=reverse("culling:home"),
        fixed={"shoot": shoot.pk},
        shoot=shoot,
        stacks=shoot_selectors.shoot_stacks(shoot_id=shoot.pk),
        merge_candidates=shoot_selectors.shoots_for_curation(owner_id=shoot.owner_id).exclude(
            pk=shoot.pk
        ),
    )


@_curator("change")
@require_GET
def workspace_stack(request: HttpRequest, stack_id: int) -> HttpResponse:
    stack = get_object_or_404(Stack.objects.select_related("shoot"), pk=stack_id)
    return _workspace(
        request,
        title=f"Stack {stack.pk} in {stack.shoot.name}",
        back=reverse("culling:shoot", args=[stack.shoot_id]),
        fixed={"stack": stack.pk},
        stack=stack,
    )


DECISIONS: dict[str, Callable[..., Photo]] = {
    "pick": services.photo_pick,
    "unflag": services.photo_unflag,
}


@_curator("change")
@require_POST
def decide(request: HttpRequest, uid: str) -> HttpResponse:
    """POST action=pick|reject|unflag|rate|label, with reason and note (reject), stars (rate)
    or label (label). Answers the frame as it now is."""
    photo = get_object_or_404(Photo, uid=uid)
    action = request.POST.get("action", "")
    curator = signed_in_user(request)
    try:
        if action in DECISIONS:
            photo = DECISIONS[action](photo_id=photo.pk, curator=curator)
        elif action == "reject":
            photo = services.photo_reject(
                photo_id=photo.pk,
                curator=curator,
                reason=request.POST.get("reason", ""),
                note=request.POST.get("note", ""),
            )
        elif action == "rate":
            stars = _stars(request.POST.get("stars", ""))
            if stars is None:
                return JsonResponse({"error": "stars: 0 to 5"}, status=400)
            photo = services.photo_set_rating(photo_id=photo.pk, curator=curator, stars=stars)
        elif action == "label":
            photo = services.photo_set_label(
                photo_id=photo.pk,
                curator=curator,
                label=request.POST.get("label", ""),
            )
        else:
            return JsonResponse(
                {"error": "action must be pick, reject, unflag, rate or label"}, status=400
            )
    except services.DecisionError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(_frame(photo.pk))


def _stars(raw: str) -> int | None:
    """The stars sent, when they are a whole number of a few digits (int() refuses thousands);
    the services judge the range."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 3 else None


def _frame(photo_id: int) -> dict[str, Any]:
    return selectors.frame(Photo.objects.select_related("owner", "shoot", "stack").get(pk=photo_id))


@_curator("change")
@require_POST
def undo(request: HttpRequest) -> HttpResponse:
    try:
        photo = services.decision_undo(curator=signed_in_user(request))
    except services.UndoRefused as refused:
        # The frame as it is now, so the workspace stops showing the overtaken decision.
        return JsonResponse({"error": str(refused), "frame": _frame(refused.photo_id)}, status=409)
    return JsonResponse({"frame": _frame(photo.pk) if photo else None})


def _chosen(request: HttpRequest, *, shoot_id: int | None = None) -> list[Photo]:
    """The frames the curator selected (POST ids: uids), in capture order."""
    uids = [u for u in request.POST.get("ids", "").split(",") if _is_uid(u)]
    return selectors.chosen_photos(uids, shoot_id=shoot_id)


@_curator("change")
@require_POST
def stack_change(request: HttpRequest, stack_id: int) -> HttpResponse:
    """POST action=best (ids: the one frame), split (ids: the frames to take out), dissolve, or
    add (ids: frames of its shoot to put in it). Answers where the workspace goes next: the
    stack again, or its shoot."""
    stack = get_object_or_404(Stack, pk=stack_id)
    chosen = _chosen(request)
    photo_ids = [p.pk for p in chosen if p.stack_id == stack.pk]
    action = request.POST.get("action", "")
    here = reverse("culling:stack", args=[stack.pk])
    its_shoot = reverse("culling:shoot", args=[stack.shoot_id])
    try:
        if action == "best" and len(photo_ids) == 1:
            shoot_services.stack_set_best(stack_id=stack.pk, photo_id=photo_ids[0])
            return JsonResponse({"next": here})
        if action == "split":
            shoot_services.stack_split(stack_id=stack.pk, photo_ids=photo_ids)
            return JsonResponse({"next": its_shoot})
        if action == "dissolve":
            shoot_services.stack_dissolve(stack_id=stack.pk)
            return JsonResponse({"next": its_shoot})
        if action == "add":
            shoot_services.stack_add(stack_id=stack.pk, photo_ids=[p.pk for p in chosen])
            return JsonResponse({"next": its_shoot})
    except shoot_services.ShootError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(
        {"error": "action must be best (one frame of the stack), split, dissolve or add"},
        status=400,
    )


@_curator("change")
@require_POST
def shoot_change(request: HttpRequest, shoot_id: int) -> HttpResponse:
    """POST action=rename (name), merge (source: another shoot of its photographer, which joins
    this one), split (ids, name: those frames go to a new shoot) or stack (ids: the stacks of
    those frames become one). Answers where the workspace goes next."""
    shoot = get_object_or_404(Shoot, pk=shoot_id)
    action = request.POST.get("action", "")
    name = request.POST.get("name", "")
    here = reverse("culling:shoot", args=[shoot.pk])
    try:
        if action == "rename":
            shoot_services.shoot_rename(shoot_id=shoot.pk, name=name)
            return JsonResponse({"next": here})
        if action == "merge":
            source = positive_int(request.POST.get("source", ""), maximum=MAX_ID)
            shoot_services.shoot_merge(source_ids=[source] if source else [], target_id=shoot.pk)
            return JsonResponse({"next": here})
        if action == "split":
            chosen = _chosen(request, shoot_id=shoot.pk)
            new = shoot_services.shoot_split(
                shoot_id=shoot.pk, photo_ids=[p.pk for p in chosen], name=name
            )
            return JsonResponse({"next": reverse("culling:shoot", args=[new.pk])})
        if action == "stack":
            chosen = _chosen(request, shoot_id=shoot.pk)
            stack_ids = list(dict.fromkeys(p.stack_id for p in chosen if p.stack_id is not None))
            shoot_services.stack_merge(stack_ids=stack_ids)
            return JsonResponse({"next": here})
    except shoot_services.ShootError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"error": "action must be rename, merge, split or stack"}, status=400)


@_curator("view")
@require_GET
def tile(request: HttpRequest, uid: str, column: int, row: int) -> HttpResponse:
    photo = get_object_or_404(Photo, uid=uid)
    try:
        content = loupe.photo_tile(photo=photo, column=column, row=row)
    except loupe.NoSuchTile as error:
        raise Http404(str(error)) from error
    response = HttpResponse(content, content_type="image/jpeg")
    # A tile never changes for a given photo: the browser may keep it.
    response["Cache-Control"] = "private, max-age=86400, immutable"
    return response


async def _pulled(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The export's chunks for an ASGI server, one at a time. Handed a plain iterator, Django's
    ASGI handler would first read it whole into a list (the archive in memory); each `next`
    runs in the request's sync thread, where the ORM cursor and storage reads live."""
    pull = sync_to_async(_next_chunk, thread_sensitive=True)
    while (chunk := await pull(chunks)) is not None:
        yield chunk


def _next_chunk(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


def _plain(message: str, *, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


EXPORTS = {
    "xmp.zip": ("application/zip", "sidecars"),
    "decisions.csv": ("text/csv; charset=utf-8", "decisions"),
    "originals.zip": ("application/zip", "picked-originals"),
}


@_curator("view")
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, kind: str) -> HttpResponse | StreamingHttpResponse:
    """shoot=<id> or stack=<id> or ids=<uid>,…, with filter=; the originals are the picked
    frames of that scope. Without any of them, every frame to cull. The workspace POSTs a
    selection (CSRF-checked; nothing is written): a few hundred ids in a query string would
    pass the server's request-line limit."""
    if kind not in EXPORTS:
        raise Http404("no such export")
    params = request.POST if request.method == "POST" else request.GET
    fixed: dict[str, int] = {}
    for name in ("shoot", "stack"):
        raw = params.get(name, "")
        if raw:
            value = positive_int(raw, maximum=MAX_ID)
            if value is None:
                raise Http404(f"no such {name}")
            fixed[name] = value
    scope = _scope(params, fixed)
    if "ids" in params and not scope.uids:
        # An empty selection is a mistake, never a request for the whole library.
        return _plain("No photos chosen: select frames (S) before exporting them.", status=400)
    if kind == "originals.zip":
        scope = selectors.Scope(**{**scope.__dict__, "filter": "picked"})
    try:
        photos = selectors.scope_photos(scope)
    except selectors.SelectionTooLarge as error:
        return _plain(str(error), status=400)
    if kind == "originals.zip" and not photos.exists():
        return _plain("No picked photos in this set: pick frames (P) first.", status=404)
    by_owner = selectors.scope_spans_owners(photos)
    body = {
        "xmp.zip": lambda: exports.xmp_zip(photos, by_owner=by_owner),
        "decisions.csv": lambda: exports.decisions_csv(photos.iterator(chunk_size=exports.ROWS)),
        "originals.zip": lambda: exports.originals_zip(photos, by_owner=by_owner),
    }[kind]()
    content_type, stem = EXPORTS[kind]
    streamed = _pulled(body) if isinstance(request, ASGIRequest) else body
    response = StreamingHttpResponse(streamed, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        True, f"parjanya-{stem}.{kind.split('.')[-1]}"
    )
    return response
