from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    name = forms.CharField(label="Name (optional)", max_length=150, required=False)


class AcceptInvitationForm(UserCreationForm):  # type: ignore[type-arg]
    """User name and password; the address comes from the invitation and takes part in the
    "password too similar" check."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.email = email


class SignUpForm(UserCreationForm):  # type: ignore[type-arg]
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required: the address is where a password reset goes.
        self.fields["email"].required = True
