from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from pytest_django import Settings as DjangoSettings

from pipeline.dedup.dynamodb_store import DynamoDbStore, create_table
from pipeline.lambda_handler import Runtime, Settings
from pipeline.lambda_results import create_results_table
from tests.pipeline.lambda_handler.events import s3_record
from tests.support.seaweedfs import SeaweedS3


def dynamodb_client(endpoint: str, *, attempts: int = 3) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(
            retries={"mode": "standard", "max_attempts": attempts},
            connect_timeout=1,
            read_timeout=10,
        ),
    )


@dataclass
class LambdaWorld:
    """A bucket, a dedup table and a results table, and a handler runtime wired to them."""

    seaweedfs: SeaweedS3
    dynalite_endpoint: str
    bucket: str
    env: dict[str, str]
    runtime: Runtime

    @property
    def s3(self) -> Any:
        return self.runtime.s3

    def put(self, key: str, body: bytes, *, owner: str = "7", filename: str = "") -> dict[str, Any]:
        """Store an object as the upload paths do and return its ObjectCreated record."""
        metadata = {"owner": owner}
        if filename:
            metadata["filename"] = filename
        response = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata)
        return s3_record(self.bucket, key, etag=response["ETag"], size=len(body))

    def dedup_store(self) -> DynamoDbStore:
        return DynamoDbStore(dynamodb_client(self.dynalite_endpoint), self.env["DEDUP_TABLE"])


@pytest.fixture
def lambda_world(seaweedfs: SeaweedS3, dynalite_endpoint: str) -> LambdaWorld:
    suffix = uuid.uuid4().hex[:10]
    env = {
        "RESULTS_TABLE": f"results-{suffix}",
        "DEDUP_TABLE": f"dedup-{suffix}",
        "PREVIEW_EDGES": "1600,400",
        "DYNAMODB_MAX_ATTEMPTS": "3",
    }
    dynamodb = dynamodb_client(dynalite_endpoint)
    create_table(dynamodb, env["DEDUP_TABLE"])
    create_results_table(dynamodb, env["RESULTS_TABLE"])
    runtime = Runtime(Settings.from_env(env), s3=seaweedfs.client(), dynamodb=dynamodb)
    return LambdaWorld(
        seaweedfs=seaweedfs,
        dynalite_endpoint=dynalite_endpoint,
        bucket=seaweedfs.create_bucket("uploads"),
        env=env,
        runtime=runtime,
    )


@pytest.fixture
def lambda_mode(
    settings: DjangoSettings,
    s3_storage: str,
    lambda_world: LambdaWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Django with PIPELINE_VALIDATION = "lambda", on the Lambda's bucket and tables; the bucket."""
    settings.PIPELINE_VALIDATION = "lambda"
    settings.PIPELINE_LAMBDA_RESULTS_TABLE = lambda_world.env["RESULTS_TABLE"]
    settings.PIPELINE_LAMBDA_DYNAMODB_ENDPOINT_URL = lambda_world.dynalite_endpoint
    settings.PIPELINE_LAMBDA_WAIT_S = 20.0
    # Django decides dedup in the Lambda's own index ("not a duplicate", backfill).
    settings.DEDUP_STORE = "dynamodb"
    settings.DEDUP_TABLE = lambda_world.env["DEDUP_TABLE"]
    settings.DEDUP_ENDPOINT_URL = lambda_world.dynalite_endpoint
    for name, value in lambda_world.seaweedfs.env().items():
        monkeypatch.setenv(name, value)
    return s3_storage
