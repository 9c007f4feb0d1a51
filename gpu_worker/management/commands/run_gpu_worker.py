"""Run the scoring worker until SIGTERM: claim awaiting_score photos in batches, score them with
the VLM, record the scores through the gallery's status services.

    manage.py run_gpu_worker
    manage.py run_gpu_worker --model-path /models/Qwen3-VL-8B-Instruct --batch-size 16
"""

from __future__ import annotations

import dataclasses
import signal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gpu_worker.conf import WorkerConfig
from gpu_worker.scoring import BACKENDS, BackendUnavailable, ModelDirectoryError, load_scorer
from gpu_worker.worker import ScoringWorker, WorkerOptions

NO_TORCH = (
    "scoring needs PyTorch and transformers, which `make run` does not install: "
    "run `.venv/bin/pip install -r requirements/vlm.txt` and start again"
)


class Command(BaseCommand):
    help = "Score photos awaiting a VLM score, in leased batches, until SIGTERM."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model-path", type=Path, help="default: VLM_MODEL_PATH")
        parser.add_argument("--backend", choices=BACKENDS, help="default: VLM_BACKEND")
        parser.add_argument("--batch-size", type=int, help="default: VLM_BATCH_SIZE")
        parser.add_argument("--max-pixels", type=int, help="default: VLM_MAX_PIXELS")
        parser.add_argument("--threshold", type=float, help="default: VLM_SCORE_THRESHOLD")
        parser.add_argument("--lease-seconds", type=float, help="default: GPU_WORKER_LEASE_SECONDS")
        parser.add_argument("--poll-seconds", type=float, help="default: GPU_WORKER_POLL_SECONDS")
        parser.add_argument(
            "--until-empty",
            action="store_true",
            help="exit 0 once no photo awaits a score instead of waiting for more",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker_config = WorkerConfig.from_settings()
        overrides = {
            "model_path": options["model_path"],
            "batch_size": options["batch_size"],
            "max_pixels": options["max_pixels"],
        }
        config = dataclasses.replace(
            worker_config.scorer, **{k: v for k, v in overrides.items() if v is not None}
        )
        if options["max_pixels"] is not None:
            config = dataclasses.replace(
                config, min_pixels=min(config.min_pixels, options["max_pixels"])
            )
        try:
            scorer = load_scorer(config, backend=options["backend"] or worker_config.backend)
        except (ModelDirectoryError, BackendUnavailable, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        except ImportError as exc:
            raise CommandError(f"{NO_TORCH} ({exc})") from exc

        def pick(option: str, setting: float) -> float:
            return setting if options[option] is None else options[option]

        worker = ScoringWorker(
            scorer=scorer,
            options=WorkerOptions(
                owner=worker_config.lease_owner(),
                threshold=pick("threshold", worker_config.threshold),
                lease_seconds=pick("lease_seconds", worker_config.lease_seconds),
                claim_size=scorer.batch_size * worker_config.claim_batches,
                poll_seconds=pick("poll_seconds", worker_config.poll_seconds),
                until_empty=options["until_empty"],
            ),
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: worker.request_stop())
        worker.run()
