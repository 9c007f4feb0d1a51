"""Fleet-scaler Lambda: every tick, start one ``manage.py scale_gpu_fleet`` task on Fargate.

The scaling decision needs the photo backlog, which lives in PostgreSQL behind Django, so the
decision runs in the web image; this function only starts it, and never two at once.
Configured by environment variables only; boto3 is the runtime's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3

STARTED_BY = "gpu-fleet-scaler"


def run_task_request(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "cluster": env["CLUSTER_ARN"],
        "taskDefinition": env["TASK_DEFINITION_ARN"],
        "launchType": "FARGATE",
        "count": 1,
        "startedBy": STARTED_BY,
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": env["SUBNET_IDS"].split(","),
                "securityGroups": env["SECURITY_GROUP_IDS"].split(","),
                "assignPublicIp": "DISABLED",
            }
        },
    }


def handler(event: Mapping[str, Any], context: object) -> dict[str, Any]:
    ecs = boto3.client("ecs")
    request = run_task_request(os.environ)
    running = ecs.list_tasks(cluster=request["cluster"], startedBy=STARTED_BY)["taskArns"]
    if running:
        # The previous tick is still deciding; a second decision would race it.
        return {"started": [], "skipped_because_running": running}
    response = ecs.run_task(**request)
    if response.get("failures"):
        raise RuntimeError(f"ECS could not start the scaler task: {response['failures']}")
    return {"started": [task["taskArn"] for task in response["tasks"]]}
