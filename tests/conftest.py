from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from pytest_django import Settings
from rest_framework.test import APIClient

pytest_plugins = ["tests.support.seaweedfs", "tests.support.dynalite"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PARJANYA_SLOW") == "1":
        return
    skip_slow = pytest.mark.skip(reason="long-running variant; set PARJANYA_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def photographer(db: None) -> User:
    return get_user_model().objects.create_user("ansel", password="pw-ansel-1234")


@pytest.fixture
def other_photographer(db: None) -> User:
    return get_user_model().objects.create_user("dorothea", password="pw-dorothea-1234")


@pytest.fixture
def api(photographer: User) -> Iterator[APIClient]:
    client = APIClient()
    client.force_authenticate(photographer)
    yield client
