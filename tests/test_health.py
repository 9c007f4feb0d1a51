from pathlib import Path

import pytest
from django.test import Client
from pytest_django import Settings

from tests.support.outages import broker_unreachable, database_unreachable


def test_health_check_answers_without_the_database() -> None:
    # No django_db mark: pytest-django makes any database access here an error.
    response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_ready_when_database_broker_and_storage_answer(media_root: Path) -> None:
    media_root.mkdir()
    response = Client().get("/readyz/")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "degraded": False,
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
    }


@pytest.mark.django_db
def test_broker_outage_is_reported_but_keeps_the_task_in_service(media_root: Path) -> None:
    # Uploads are still accepted with the broker down, so the balancer must keep routing here.
    media_root.mkdir()
    with broker_unreachable():
        response = Client().get("/readyz/")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "degraded": True,
        "checks": {"database": "ok", "broker": "unavailable", "storage": "ok"},
    }


@pytest.mark.django_db
def test_not_ready_while_storage_cannot_be_written(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = str(blocker / "media")
    response = Client().get("/readyz/")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "unavailable"
    assert "not-a-folder" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_database_down_liveness_stays_up_and_readiness_says_not_ready(media_root: Path) -> None:
    media_root.mkdir()
    client = Client()
    with database_unreachable():
        live = client.get("/healthz/")
        ready = client.get("/readyz/")
    assert live.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "unavailable"


@pytest.mark.django_db
def test_probes_answer_a_load_balancer_that_uses_the_private_ip(media_root: Path) -> None:
    media_root.mkdir()
    balancer = Client(HTTP_HOST="10.0.3.17")
    assert balancer.get("/healthz/").status_code == 200
    assert balancer.get("/readyz/").status_code == 200
    # Everything else still requires an allowed host.
    assert balancer.get("/accounts/login/").status_code == 400
