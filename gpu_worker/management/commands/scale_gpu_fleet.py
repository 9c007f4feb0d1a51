"""Set the GPU Auto Scaling group's desired capacity from the scoring backlog.

manage.py scale_gpu_fleet              one tick (cron, EventBridge)
manage.py scale_gpu_fleet --every 120  a tick every 120 s until SIGTERM
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gpu_worker.conf import FleetConfig
from gpu_worker.fleet import AutoScalingFleet
from gpu_worker.selectors import scoring_busy_instances, scoring_queue_counts
from gpu_worker.services import fleet_scale_tick

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Scale the GPU worker fleet on the scoring backlog (once, or every N seconds)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every", type=float, default=0.0, help="seconds between ticks (default: one tick)"
        )
        parser.add_argument("--group", default="", help="Auto Scaling group name")
        parser.add_argument("--dry-run", action="store_true", help="decide and log, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        config = FleetConfig.from_settings()
        group = options["group"] or config.group_name
        if not group:
            raise CommandError("no Auto Scaling group: set GPU_FLEET_ASG_NAME or pass --group")
        try:
            client = boto3.client("autoscaling", region_name=config.region or None)
        except NoRegionError:
            raise CommandError(
                "no AWS region for the Auto Scaling group: set GPU_FLEET_REGION "
                "(or AWS_DEFAULT_REGION)"
            ) from None
        fleet = AutoScalingFleet(client=client, group_name=group)
        policy = config.policy
        every: float = options["every"]
        stop = threading.Event()
        if every:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
        while True:
            try:
                decision = fleet_scale_tick(
                    fleet=fleet,
                    policy=policy,
                    counts=scoring_queue_counts(),
                    busy_instance_ids=scoring_busy_instances(),
                    dry_run=options["dry_run"],
                )
            except (BotoCoreError, ClientError) as error:
                if not every:
                    raise CommandError(_in_words(error)) from None
                # A loop that outlives one failed AWS call: the next tick retries.
                logger.error("scaler tick failed: %s", _in_words(error))
            except Exception:
                if not every:
                    raise
                logger.exception("scaler tick failed")
            else:
                self.stdout.write(f"desired={decision.desired} ({decision.reason})")
            if not every or stop.wait(every):
                return


def _in_words(error: BotoCoreError | ClientError) -> str:
    if isinstance(error, NoCredentialsError):
        return (
            "no AWS credentials: give the scaler's task or instance a role, or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    return f"AWS answered: {error}"
