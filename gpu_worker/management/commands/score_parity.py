"""Compare two scorer backends or runtimes on a golden set of photos.

    manage.py score_parity --golden DIR --backend transformers --backend vllm
    manage.py score_parity --golden DIR --backend transformers:dtype=float32 \
        --backend transformers:dtype=bfloat16 --max-abs-diff 0.03
    manage.py score_parity --golden DIR --backend vllm --backend file:cpu-scores.json

Exits non-zero when a tolerance is exceeded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gpu_worker.conf import WorkerConfig
from gpu_worker.parity import (
    ParityTolerances,
    compare_scores,
    golden_images,
    parse_backend_spec,
    run_backend,
)
from gpu_worker.scoring import BackendUnavailable, ModelDirectoryError


class Command(BaseCommand):
    help = "Score a golden set with two backends and check that their scores agree."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--golden", type=Path, required=True, help="directory of images")
        parser.add_argument(
            "--backend",
            action="append",
            required=True,
            help="transformers|vllm|auto[:key=value,...] or file:SCORES.json; give it twice",
        )
        parser.add_argument("--threshold", type=float, default=None)
        defaults = ParityTolerances()
        parser.add_argument("--min-spearman", type=float, default=defaults.min_spearman)
        parser.add_argument("--max-abs-diff", type=float, default=defaults.max_abs_diff)
        parser.add_argument("--max-flips", type=int, default=defaults.max_flips)
        parser.add_argument(
            "--save", type=Path, default=None, help="write each run's scores to DIR/run-N.json"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        specs: list[str] = options["backend"]
        if len(specs) != 2:
            raise CommandError("give --backend exactly twice")
        config = WorkerConfig.from_settings()
        threshold = options["threshold"]
        if threshold is None:
            threshold = config.threshold
        try:
            parsed = [parse_backend_spec(spec, base=config.scorer) for spec in specs]
            images = golden_images(options["golden"])
            runs = [run_backend(spec, images=images) for spec in parsed]
        except (ValueError, OSError, ModelDirectoryError, BackendUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        (label_a, scores_a), (label_b, scores_b) = runs
        if options["save"]:
            options["save"].mkdir(parents=True, exist_ok=True)
            for n, (_, scores) in enumerate(runs, start=1):
                (options["save"] / f"run-{n}.json").write_text(json.dumps(scores, indent=1))
        tolerances = ParityTolerances(
            min_spearman=options["min_spearman"],
            max_abs_diff=options["max_abs_diff"],
            max_flips=options["max_flips"],
        )
        try:
            report = compare_scores(scores_a, scores_b, threshold=threshold, tolerances=tolerances)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc

        self.stdout.write(f"golden set: {report.count} images in {options['golden']}")
        self.stdout.write(f"A: {label_a}")
        self.stdout.write(f"B: {label_b}")
        self.stdout.write(
            f"spearman={report.spearman:.4f} (min {tolerances.min_spearman})  "
            f"max_abs_diff={report.max_abs_diff:.4f} (max {tolerances.max_abs_diff}, "
            f"{report.worst})  flips={len(report.flips)} (max {tolerances.max_flips}) "
            f"at threshold {threshold}"
        )
        for flip in report.flips:
            self.stdout.write(f"  flip: {flip.name} A={flip.score_a:.4f} B={flip.score_b:.4f}")
        if not report.passed:
            raise CommandError("score parity FAILED: " + "; ".join(report.failures))
        self.stdout.write("score parity OK")
