from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models


class Invitation(models.Model):
    """A curator's invitation for one photographer. Only a SHA-256 of the link's token is kept:
    the link itself is shown once to the curator and mailed to the invitee."""

    email = models.EmailField()
    name = models.CharField(max_length=150, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="invitations_sent",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitation",
    )

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for the invitee"
        EXPIRED = "expired", "Expired"
        ACCEPTED = "accepted", "Accepted"

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["email"], name="invitation_email")]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    def state(self, now: datetime) -> Invitation.State:
        if self.accepted_at is not None:
            return self.State.ACCEPTED
        return self.State.EXPIRED if now >= self.expires_at else self.State.PENDING
