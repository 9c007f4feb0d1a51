from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def ansel(client: Client, photographer: User) -> Client:
    """The test client, signed in as the photographer."""
    client.force_login(photographer)
    return client
