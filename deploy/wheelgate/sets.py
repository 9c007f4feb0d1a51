"""The requirement sets the deployment installs, each with the platform it runs on."""

from __future__ import annotations

from dataclasses import dataclass

from deploy.wheelgate.target import Target


@dataclass(frozen=True)
class RequirementSet:
    path: str
    target: Target
    description: str
    # A set another issue has not written yet is reported as skipped rather than failing.
    required: bool = True


# glibc ceilings are those of the runtime images: Debian bookworm (python:3.12-slim-bookworm)
# has 2.36, the Lambda python3.12 runtime (Amazon Linux 2023) has 2.34.
DEPLOYED_SETS = (
    RequirementSet(
        "requirements/base.txt",
        Target(arch="aarch64", glibc=(2, 36)),
        "Web and Celery image on ECS Fargate ARM64 (python:3.12-slim-bookworm)",
    ),
    RequirementSet(
        "requirements/lambda.txt",
        Target(arch="aarch64", glibc=(2, 34)),
        "Validator Lambda, arm64 python3.12 runtime (Amazon Linux 2023)",
    ),
    RequirementSet(
        "requirements/gpu.txt",
        Target(arch="x86_64", glibc=(2, 36)),
        "GPU worker on g5: the one intentional x86_64 exception",
        required=False,
    ),
)
