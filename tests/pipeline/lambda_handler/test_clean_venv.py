"""The handler in an environment built from requirements/lambda.txt alone: no Django."""

from __future__ import annotations

import subprocess

from pipeline.lambda_results import Status
from tests.pipeline.lambda_handler.cleanvenv import clean_env, invoke_in_clean_venv, lambda_venv
from tests.pipeline.lambda_handler.conftest import LambdaWorld
from tests.pipeline.lambda_handler.events import s3_event
from tests.support.paths import PHOTOS


def test_django_cannot_even_be_imported_there() -> None:
    probe = subprocess.run(
        [str(lambda_venv()), "-c", "import django"],
        capture_output=True,
        text=True,
        env=clean_env({}),
        check=False,
    )
    assert probe.returncode != 0
    assert "No module named 'django'" in probe.stderr


def test_handler_validates_a_batch_against_seaweedfs_and_dynalite(
    lambda_world: LambdaWorld,
) -> None:
    jpeg = lambda_world.put("originals/gg/Été photo 1.jpg", (PHOTOS / "elephants.jpg").read_bytes())
    dng = lambda_world.put("originals/gg/frame.dng", (PHOTOS / "canon_eos_6d.dng").read_bytes())
    gone = lambda_world.put("originals/gg/gone.jpg", b"\xff\xd8\xff")
    lambda_world.s3.delete_object(Bucket=lambda_world.bucket, Key="originals/gg/gone.jpg")
    env = {
        **lambda_world.env,
        **lambda_world.seaweedfs.env(),
        "AWS_ENDPOINT_URL_DYNAMODB": lambda_world.dynalite_endpoint,
    }

    answer = invoke_in_clean_venv(s3_event(jpeg, dng, gone), env)

    assert answer["response"] == {"batchItemFailures": []}
    assert answer["django_loaded"] is False
    records = {
        "originals/gg/Été photo 1.jpg": jpeg,
        "originals/gg/frame.dng": dng,
        "originals/gg/gone.jpg": gone,
    }
    found = {}
    for key, record in records.items():
        outcome = lambda_world.runtime.results.get(key, record["s3"]["object"]["eTag"])
        found[key] = None if outcome is None else outcome.status
    assert found == {
        "originals/gg/Été photo 1.jpg": Status.VALIDATED,
        "originals/gg/frame.dng": Status.VALIDATED,
        "originals/gg/gone.jpg": Status.MISSING,
    }
