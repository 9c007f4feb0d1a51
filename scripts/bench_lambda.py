"""Benchmark the validator Lambda in its clean environment (requirements/lambda.txt, no Django).

- Cold import: a fresh interpreter of the clean venv imports `pipeline.lambda_handler`
  (median of several fresh processes, with bytecode compiled as a deployed package ships it;
  the OS file cache is warm, as on a reused Lambda host).
- Invocation: one warm process of the clean venv handles one S3 event at a time (a new object
  each time, so no stored result short-cuts the work): GET from SeaweedFS, validate, previews
  back to S3, dedup lookup + insert and result write in dynalite.
- In-process: `validate()` on the same bytes in this interpreter, with the same preview edges.

The last line is the summary, `lambda: cold_import_s=... invoke_ms_jpeg=...
overhead_vs_inprocess=...` on one line, where the overhead is the invocation time over the
in-process validator time for the 24 MP JPEG.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from testimages import make_jpeg  # noqa: E402

from pipeline.core.validator import validate  # noqa: E402
from pipeline.dedup.dynamodb_store import create_table  # noqa: E402
from pipeline.lambda_results import create_results_table  # noqa: E402
from tests.pipeline.lambda_handler.cleanvenv import clean_env, lambda_venv  # noqa: E402
from tests.pipeline.lambda_handler.conftest import dynamodb_client  # noqa: E402
from tests.pipeline.lambda_handler.events import s3_event, s3_record  # noqa: E402
from tests.support.dynalite import start_dynalite  # noqa: E402
from tests.support.paths import PHOTOS  # noqa: E402
from tests.support.processes import stop  # noqa: E402
from tests.support.seaweedfs import run_seaweedfs  # noqa: E402

PREVIEW_EDGES = (1600, 400)

COLD_IMPORT = """
import time
started = time.perf_counter()
import pipeline.lambda_handler
print(time.perf_counter() - started)
"""

# One warm container: reads one event per line, answers with the handler's wall time.
WARM_LOOP = """
import json, sys, time
from pipeline.lambda_handler import handler
for line in sys.stdin:
    started = time.perf_counter()
    response = handler(json.loads(line))
    elapsed = time.perf_counter() - started
    print(json.dumps({"ms": elapsed * 1e3, "response": response}), flush=True)
"""


def cold_import_s(python: Path, env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [str(python), "-c", COLD_IMPORT],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            check=True,
        )
        times.append(float(out.stdout.strip()))
    return times


def in_process_ms(data: bytes, filename: str, runs: int) -> list[float]:
    validate(data, filename=filename, preview_edges=PREVIEW_EDGES)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        validate(data, filename=filename, preview_edges=PREVIEW_EDGES)
        times.append((time.perf_counter() - started) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement")
    args = parser.parse_args()

    print("building or reusing the clean Lambda venv (var/lambda-venv/) ...", flush=True)
    python = lambda_venv()
    jpeg = make_jpeg(seed=24)
    dng = (PHOTOS / "canon_eos_6d.dng").read_bytes()
    print(f"24 MP JPEG: {len(jpeg) / 2**20:.1f} MiB; DNG: {len(dng) / 2**20:.2f} MiB", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp, run_seaweedfs(Path(tmp)) as s3:
        process, dynamo_endpoint = start_dynalite(Path(tmp) / "dynalite")
        try:
            bucket = s3.create_bucket("bench")
            tables = {"RESULTS_TABLE": "bench-results", "DEDUP_TABLE": "bench-dedup"}
            dynamodb = dynamodb_client(dynamo_endpoint)
            create_table(dynamodb, tables["DEDUP_TABLE"])
            create_results_table(dynamodb, tables["RESULTS_TABLE"])
            env = clean_env(
                {
                    **tables,
                    **s3.env(),
                    "AWS_ENDPOINT_URL_DYNAMODB": dynamo_endpoint,
                    "PREVIEW_EDGES": ",".join(map(str, PREVIEW_EDGES)),
                }
            )
            cold = cold_import_s(python, env, args.runs)

            client = s3.client()
            events: list[tuple[str, str]] = []
            for kind, data, ext in (("jpeg", jpeg, "jpg"), ("dng", dng, "dng")):
                # One untimed warm-up, then the timed runs, each a new object.
                for run in range(args.runs + 1):
                    key = f"originals/bench/{kind}-{run}.{ext}"
                    put = client.put_object(Bucket=bucket, Key=key, Body=data)
                    record = s3_record(bucket, key, etag=put["ETag"], size=len(data))
                    events.append((kind if run else "warmup", json.dumps(s3_event(record))))
            warm = subprocess.run(
                [str(python), "-c", WARM_LOOP],
                input="\n".join(event for _, event in events) + "\n",
                capture_output=True,
                text=True,
                env=env,
                cwd=REPO,
                check=True,
            )
            answers = [json.loads(line) for line in warm.stdout.splitlines()]
            if any(answer["response"]["batchItemFailures"] for answer in answers):
                raise SystemExit(f"the handler reported failures: {answers}")
            invoke = {
                kind: [a["ms"] for (k, _), a in zip(events, answers, strict=True) if k == kind]
                for kind in ("jpeg", "dng")
            }
        finally:
            stop(process)

    inproc = {
        "jpeg": in_process_ms(jpeg, "bench.jpg", args.runs),
        "dng": in_process_ms(dng, "bench.dng", args.runs),
    }
    median = statistics.median
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (1, 5, 15 min)")
    print(
        f"cold import of pipeline.lambda_handler, {args.runs} fresh processes (s): "
        + ", ".join(f"{t:.3f}" for t in cold)
    )
    for kind in ("jpeg", "dng"):
        print(
            f"{kind}: invocation median {median(invoke[kind]):.0f} ms "
            f"(min {min(invoke[kind]):.0f}), in-process validate median "
            f"{median(inproc[kind]):.0f} ms (min {min(inproc[kind]):.0f}); "
            f"overhead {median(invoke[kind]) - median(inproc[kind]):.0f} ms"
        )
    overhead = median(invoke["jpeg"]) / median(inproc["jpeg"])
    print(
        f"lambda: cold_import_s={median(cold):.3f} invoke_ms_jpeg={median(invoke['jpeg']):.0f} "
        f"overhead_vs_inprocess={overhead:.2f}x"
    )


if __name__ == "__main__":
    main()
