"""Schemathesis drives every operation of the OpenAPI schema with generated parameters and
bodies, authenticated as a photographer, and no answer may be a 500 (an unhandled error). A
deliberate 5xx is fine: 501 for direct uploads without S3, 503 with Retry-After for an outage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis import checks

from curation.wsgi import application

# Called as a WSGI server would (not through the test client), so requests end by closing their
# database connection: the tests run in real transactions, not in a rolled-back one.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def token(transactional_db: None) -> Iterator[str]:
    user = get_user_model().objects.create_user("fuzzed", password="pw-fuzzed-1234")
    yield Token.objects.create(user=user).key
    cache.clear()  # the fuzzer's uploads count against the upload throttle


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_operation_answers_500(case: schemathesis.Case[Any], token: str) -> None:
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code != 500, (case.as_curl_command(), response.text[:500])
    # What the schema promises is what a client gets: every status code documented, and
    # every body (errors included) of the documented shape.
    case.validate_response(
        response,
        checks=[
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
