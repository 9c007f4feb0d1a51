"""The AWS side of the scaler against moto's EC2 Auto Scaling mock (there is no real AWS here),
fed by real photos in the real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import boto3
import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from moto import mock_aws
from pytest_django import Settings

from gallery.models import Photo
from gpu_worker.fleet import STATE_TAG

from .conftest import make_awaiting_photo

GROUP = "parjanya-gpu"
REGION = "us-east-1"


@pytest.fixture
def autoscaling(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    settings.GPU_FLEET_ASG_NAME = GROUP
    settings.GPU_FLEET_REGION = REGION
    settings.GPU_FLEET_MIN_INSTANCES = 0
    settings.GPU_FLEET_MAX_INSTANCES = 4
    settings.GPU_FLEET_IMAGES_PER_INSTANCE_PER_TICK = 10
    settings.GPU_FLEET_IDLE_TICKS_TO_MINIMUM = 2
    settings.GPU_FLEET_SCALE_IN_AFTER_TICKS = 2
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        ec2.create_launch_template(
            LaunchTemplateName="gpu-worker",
            LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "g5.xlarge"},
        )
        client = boto3.client("autoscaling", region_name=REGION)
        client.create_auto_scaling_group(
            AutoScalingGroupName=GROUP,
            LaunchTemplate={"LaunchTemplateName": "gpu-worker", "Version": "$Latest"},
            MinSize=0,
            MaxSize=4,
            DesiredCapacity=2,
            AvailabilityZones=[f"{REGION}a"],
        )
        yield client


def group(client: Any) -> dict[str, Any]:
    groups: list[dict[str, Any]] = client.describe_auto_scaling_groups(
        AutoScalingGroupNames=[GROUP]
    )["AutoScalingGroups"]
    return groups[0]


def tick(*args: str) -> str:
    out = StringIO()
    call_command("scale_gpu_fleet", *args, stdout=out)
    return out.getvalue()


def lease(photo: Photo, instance_id: str) -> None:
    photo.scoring_lease_owner = f"{instance_id}:4242:abcdef"
    photo.scoring_lease_expires_at = timezone.now() + timedelta(minutes=5)
    photo.save()


@pytest.mark.django_db
def test_backlog_sets_desired_capacity(autoscaling: Any, photographer: User) -> None:
    for _ in range(35):
        make_awaiting_photo(photographer, preview=None)

    assert "desired=4" in tick()
    assert group(autoscaling)["DesiredCapacity"] == 4


@pytest.mark.django_db
def test_capacity_stays_within_the_groups_own_limits(
    autoscaling: Any, settings: Settings, photographer: User
) -> None:
    settings.GPU_FLEET_MAX_INSTANCES = 10
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=GROUP, MaxSize=3)
    for _ in range(95):
        make_awaiting_photo(photographer, preview=None)

    assert "desired=3" in tick()
    assert group(autoscaling)["DesiredCapacity"] == 3


@pytest.mark.django_db
def test_dry_run_changes_nothing(autoscaling: Any, photographer: User) -> None:
    for _ in range(35):
        make_awaiting_photo(photographer, preview=None)

    assert "desired=4" in tick("--dry-run")
    assert group(autoscaling)["DesiredCapacity"] == 2


@pytest.mark.django_db
def test_empty_queue_scales_to_zero_after_idle_ticks_remembered_in_a_tag(
    autoscaling: Any,
) -> None:
    tick()
    assert group(autoscaling)["DesiredCapacity"] == 2
    tags = {t["Key"]: t["Value"] for t in group(autoscaling)["Tags"]}
    assert tags[STATE_TAG] == "idle=1,low=0"

    tick()
    assert group(autoscaling)["DesiredCapacity"] == 0


@pytest.mark.django_db
def test_instances_holding_leases_are_protected_from_scale_in(
    autoscaling: Any, photographer: User
) -> None:
    busy, idle = (i["InstanceId"] for i in group(autoscaling)["Instances"])
    photo = make_awaiting_photo(photographer, preview=None)
    lease(photo, busy)
    # A lease that ran out (its worker died) protects nothing.
    stale = make_awaiting_photo(photographer, preview=None)
    lease(stale, idle)
    Photo.objects.filter(pk=stale.pk).update(
        scoring_lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    tick()
    protection = {
        i["InstanceId"]: i["ProtectedFromScaleIn"] for i in group(autoscaling)["Instances"]
    }
    assert protection == {busy: True, idle: False}

    Photo.objects.filter(pk=photo.pk).update(status=Photo.Status.SCORED)
    tick()
    assert not any(i["ProtectedFromScaleIn"] for i in group(autoscaling)["Instances"])


@pytest.mark.django_db
def test_missing_group_name_is_a_clear_error(settings: Settings) -> None:
    settings.GPU_FLEET_ASG_NAME = ""
    with pytest.raises(CommandError, match="GPU_FLEET_ASG_NAME"):
        tick()


@pytest.mark.django_db
def test_outside_aws_the_scaler_says_what_is_missing_in_words(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for key in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings.GPU_FLEET_ASG_NAME = GROUP
    settings.GPU_FLEET_REGION = ""
    with pytest.raises(CommandError, match="set GPU_FLEET_REGION"):
        tick()

    settings.GPU_FLEET_REGION = REGION
    with pytest.raises(CommandError, match=r"^no AWS credentials: give the scaler"):
        tick()
