from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def curator(db: None) -> User:
    return get_user_model().objects.create_user(
        "minor", password="pw-minor-1234", is_staff=True, is_superuser=True
    )


@pytest.fixture
def curator_client(curator: User) -> Client:
    client = Client()
    client.force_login(curator)
    return client
