from django.test import Client


def test_health_check_answers_without_the_database() -> None:
    # No django_db mark: pytest-django makes any database access here an error.
    response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"
