"""The fleet-scaler Lambda's request: what it asks ECS to run, from its environment alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

HANDLER = Path(__file__).resolve().parents[2] / "deploy" / "lambdas" / "scaler" / "handler.py"


def _load() -> ModuleType:
    # Loaded by path, as Lambda does: the asset folder is the package root there.
    spec = importlib.util.spec_from_file_location("scaler_handler", HANDLER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_run_task_request_starts_one_private_fargate_decision() -> None:
    handler = _load()
    request = handler.run_task_request(
        {
            "CLUSTER_ARN": "arn:aws:ecs:eu-west-1:123456789012:cluster/parjanya",
            "TASK_DEFINITION_ARN": "arn:aws:ecs:eu-west-1:123456789012:task-definition/scale:3",
            "SUBNET_IDS": "subnet-a,subnet-b",
            "SECURITY_GROUP_IDS": "sg-1",
        }
    )
    assert request["launchType"] == "FARGATE" and request["count"] == 1
    assert request["taskDefinition"].endswith("task-definition/scale:3")
    network = request["networkConfiguration"]["awsvpcConfiguration"]
    assert network == {
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-1"],
        "assignPublicIp": "DISABLED",
    }
    # The handler finds a still-running decision by this tag and does not start a second one.
    assert request["startedBy"] == handler.STARTED_BY
