"""Invitations in the curator admin. Adding one issues a link (shown once, and mailed);
"Send a new link" replaces the link of invitations not yet accepted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.forms import InvitationForm
from accounts.models import Invitation
from gallery.request_user import signed_in_user


def _link_for(request: HttpRequest) -> services.LinkFor:
    return lambda token: request.build_absolute_uri(reverse("invitation-accept", args=[token]))


def _valid_for() -> timedelta:
    return timedelta(days=settings.INVITATION_VALID_DAYS)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("email", "name", "state", "expires_at", "created_by", "accepted_user")
    list_select_related = ("created_by", "accepted_user")
    search_fields = ("email", "name")
    actions = ("send_new_link",)
    fields = (
        "email",
        "name",
        "created_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_user",
    )
    readonly_fields = fields

    @admin.display(description="State")
    def state(self, invitation: Invitation) -> str:
        return invitation.state(timezone.now()).label

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        # Nothing on an invitation is edited by hand; "Send a new link" is the one change.
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = InvitationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                issued = services.invitation_issue(
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    created_by=signed_in_user(request),
                    valid_for=_valid_for(),
                    link_for=_link_for(request),
                )
            except services.AccountError as error:
                form.add_error("email", str(error))
            else:
                self.log_addition(request, issued.invitation, [{"added": {}}])
                return self._issued_page(request, [issued])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Invite a photographer",
            "form": form,
            "valid_days": settings.INVITATION_VALID_DAYS,
        }
        return TemplateResponse(request, "admin/accounts/invitation/invite.html", context)

    @admin.action(description="Send a new link (the old one stops working)", permissions=["add"])
    def send_new_link(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> Any:
        issued = []
        for invitation_id in queryset.values_list("pk", flat=True):
            try:
                issued.append(
                    services.invitation_reissue(
                        invitation_id=invitation_id,
                        valid_for=_valid_for(),
                        link_for=_link_for(request),
                    )
                )
            except services.AccountError as error:
                self.message_user(request, str(error), messages.WARNING)
        return self._issued_page(request, issued) if issued else None

    def _issued_page(
        self, request: HttpRequest, issued: list[services.IssuedInvitation]
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Invitation link" if len(issued) == 1 else "Invitation links",
            "issued": issued,
        }
        return TemplateResponse(request, "admin/accounts/invitation/issued.html", context)
