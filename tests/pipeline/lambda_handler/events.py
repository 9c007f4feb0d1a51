"""S3 event records shaped exactly as S3 sends them (event version 2.1), and their SQS wrapper."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote_plus


def s3_record(bucket: str, key: str, *, etag: str, size: int) -> dict[str, Any]:
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-30T12:00:00.000Z",
        "eventName": "ObjectCreated:CompleteMultipartUpload",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURI"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "validate-originals",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                # S3 URL-encodes keys in events, with '+' for spaces.
                "key": quote_plus(key, safe="/"),
                "size": size,
                "eTag": etag.strip('"'),
                "sequencer": "0055AED6DCD90281E5",
            },
        },
    }


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def sqs_event(*messages: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """One SQS message per list of S3 records; returns the event and the message ids."""
    ids = [str(uuid.uuid4()) for _ in messages]
    return (
        {
            "Records": [
                {
                    "messageId": message_id,
                    "receiptHandle": f"handle-{message_id}",
                    "body": json.dumps({"Records": records}),
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:originals-created",
                    "awsRegion": "us-east-1",
                }
                for message_id, records in zip(ids, messages, strict=True)
            ]
        },
        ids,
    )
