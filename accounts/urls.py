"""Mounted at /accounts/. Django's standard URL names (login, logout, password_change,
password_reset…) are kept, so Django's own views and the admin find them."""

from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.account, name="account"),
    path("login/", views.AppLoginView.as_view(), name="login"),
    # POST only; lands on LOGOUT_REDIRECT_URL, the app's login page (the admin's logout too).
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", views.AppPasswordChangeView.as_view(), name="password_change"),
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(
            template_name="accounts/password_reset_form.html",
            email_template_name="accounts/email/password_reset.txt",
            subject_template_name="accounts/email/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="accounts/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="accounts/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("token/", views.api_token_create, name="api-token-create"),
    path("token/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("api/", views.api_guide, name="api-guide"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("signup/", views.sign_up, name="signup"),
]
