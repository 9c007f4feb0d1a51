"""Account pages in the app's look: login and password change (Django's views with our
templates), invitation acceptance, optional self sign-up, the API token and the API guide.
Thin: every write is one service call."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import AcceptInvitationForm, SignUpForm
from accounts.models import Invitation
from gallery.request_user import signed_in_user

# Accounts made here sign in with a password: login() is told so if more backends are added.
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class AppLoginView(LoginView):
    template_name = "accounts/login.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        return {**super().get_context_data(**kwargs), "signup_open": settings.SIGNUP_OPEN}

    def get_default_redirect_url(self) -> str:
        # Used when the login form carries no `next`: each role starts on its own home.
        return selectors.home_url(is_staff=self.request.user.is_staff)


class AppPasswordChangeView(SuccessMessageMixin, PasswordChangeView):  # type: ignore[type-arg]
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account")
    success_message = "Your password is changed."


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request, new_token="")


@login_required
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    key = services.api_token_create(user=signed_in_user(request))
    # Rendered, not redirected to: the key is on this one response and never shown again.
    response = _account_page(request, new_token=key)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def api_token_revoke(request: HttpRequest) -> HttpResponse:
    if services.api_token_revoke(user=signed_in_user(request)):
        messages.success(request, "Token revoked: anything still using it is now refused.")
    return redirect("account")


def _account_page(request: HttpRequest, *, new_token: str) -> HttpResponse:
    user = signed_in_user(request)
    return render(
        request,
        "accounts/account.html",
        {
            "new_token": new_token,
            "token_created_at": selectors.api_token_created_at(user=user),
        },
    )


@require_GET
def api_guide(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/api_guide.html",
        {
            "photos_url": request.build_absolute_uri(reverse("api:photo-list")),
            "docs_url": reverse("api-docs"),
        },
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = selectors.invitation_for_token(token=token)
    state = invitation.state(timezone.now()) if invitation else "unknown"
    if invitation is None or state != Invitation.State.PENDING:
        return _invitation_unusable(request, state)
    form = AcceptInvitationForm(
        request.POST or None,
        email=invitation.email,
        initial={"username": selectors.username_suggestion(email=invitation.email)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except services.InvitationUnusable as unusable:
            return _invitation_unusable(request, unusable.problem)
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            return _welcome(request, user)
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


def _invitation_unusable(request: HttpRequest, problem: str) -> HttpResponse:
    return render(
        request,
        "accounts/invitation_unusable.html",
        {"problem": problem},
        status=404 if problem == "unknown" else 410,
    )


@require_http_methods(["GET", "POST"])
def sign_up(request: HttpRequest) -> HttpResponse:
    if not settings.SIGNUP_OPEN:
        return render(request, "accounts/signup_closed.html", status=404)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.photographer_sign_up(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except services.AccountError as error:
            form.add_error(None, str(error))
        else:
            return _welcome(request, user)
    return render(request, "accounts/signup.html", {"form": form})


def _welcome(request: HttpRequest, user: User) -> HttpResponse:
    login(request, user, backend=MODEL_BACKEND)
    messages.success(request, f"Welcome, {user.get_username()}. Your account is ready.")
    return redirect("gallery:upload")
