"""Benchmark ingest end to end through the real stack, against the validator alone.

    make bench-ingest         # or: .venv/bin/python scripts/bench_ingest.py [--jpegs N --dngs N]

Inputs, derived once from the labelled real camera photos in ../shared/testdata/real-photos and
cached under var/bench-ingest/: 200 24 MP JPEGs at quality 92 (each a 2 x 2 mosaic of four real
photos, so every frame holds camera detail and no two are near-duplicates), 20 24 MP DNGs
(12-bit Bayer data plus a full-size embedded JPEG preview, scripts/testimages.make_dng) and one
DNG just under the 200 MiB upload limit.

The stack runs on loopback with the commands the image runs (deploy/docker/entrypoint.py): the
web role (gunicorn's asgi worker) with the test settings, a PostgreSQL database of its own,
Redis, and the worker role with 2 pool processes. A separate load process uploads every file
through POST /api/photos/ (token authentication, 4 connections); the clock runs from its first
request to the last verdict (the last photo to leave `uploaded`). Around it, in the same run:

- the ceiling: validate() with the 1600/400 previews on the same files in 2 processes (as many
  as the worker's pool), nothing stored; run before and after the ingest, and averaged, since
  load from elsewhere on the machine drifts;
- worker RSS: the high-water mark (VmHWM) of each pool process after the ingest;
- upload RSS growth: the web workers' RSS, sampled every 10 ms while the ~200 MB DNG uploads,
  over their RSS before (the Celery worker is stopped by then, so the file is only stored);
- big RAW worker RSS: the high-water mark of a fresh worker's pool processes after they ingest
  that DNG.

The last line is the summary:

    ingest: photos_s= vs_validator_ceiling= p95_verdict_s= worker_rss_mb= upload_rss_growth_mb=
    big_raw_worker_rss_mb=
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
from PIL import Image  # noqa: E402

from deploy.docker.entrypoint import command_for  # noqa: E402
from tests.support.paths import REAL_PHOTOS, real_photo_labels  # noqa: E402

CACHE = ROOT / "var" / "bench-ingest"
PREVIEW_EDGES = (1600, 400)
FRAME = (6000, 4000)
# Just under the 200 MiB upload limit: 92 MP of 16-bit Bayer data plus its JPEG preview.
BIG_FRAME = (11776, 7856)
POOL = 2
CONNECTIONS = 4
DONE_TIMEOUT_S = 1800


# --- inputs ------------------------------------------------------------------------------------


def _sources() -> list[Path]:
    return [
        REAL_PHOTOS / name
        for name in sorted(real_photo_labels())
        if name.lower().endswith((".jpg", ".jpeg"))
    ]


def _mosaic(seed: int, size: tuple[int, int]) -> NDArray[np.uint8]:
    """Four real photos, each scaled to cover a quarter of the frame and cropped at random."""
    rng = random.Random(seed)
    width, height = size
    tile_w, tile_h = width // 2, height // 2
    frame = Image.new("RGB", (tile_w * 2, tile_h * 2))
    for index, path in enumerate(rng.sample(_sources(), 4)):
        with Image.open(path) as opened:
            photo = opened.convert("RGB")
        scale = max(tile_w / photo.width, tile_h / photo.height)
        cover = (max(tile_w, round(photo.width * scale)), max(tile_h, round(photo.height * scale)))
        photo = photo.resize(cover, Image.Resampling.LANCZOS)
        left = rng.randint(0, cover[0] - tile_w)
        top = rng.randint(0, cover[1] - tile_h)
        tile = photo.crop((left, top, left + tile_w, top + tile_h))
        if rng.random() < 0.5:
            tile = tile.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        frame.paste(tile, ((index % 2) * tile_w, (index // 2) * tile_h))
    return np.asarray(frame)


def _build(kind: str, seed: int) -> bytes:
    from testimages import encode_jpeg, make_dng

    if kind == "jpeg":
        return encode_jpeg(_mosaic(seed, FRAME), quality=92)
    return make_dng(_mosaic(seed, BIG_FRAME if kind == "big" else FRAME))


def _write(job: tuple[str, int, str]) -> str:
    kind, seed, name = job
    path = CACHE / "inputs" / name
    if not path.exists():
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(_build(kind, seed))
        temporary.rename(path)
    return name


def inputs(jpegs: int, dngs: int) -> tuple[list[Path], Path]:
    """The ingest files (one DNG after every tenth JPEG or so) and the big DNG; built once."""
    (CACHE / "inputs").mkdir(parents=True, exist_ok=True)
    jobs = [("jpeg", seed, f"frame_{seed:03d}.jpg") for seed in range(jpegs)]
    jobs += [("dng", 1000 + seed, f"frame_{seed:03d}.dng") for seed in range(dngs)]
    missing = [job for job in jobs if not (CACHE / "inputs" / job[2]).exists()]
    if missing:
        print(f"deriving {len(missing)} frames from {REAL_PHOTOS} (once; cached)", flush=True)
        with ProcessPoolExecutor(max_workers=POOL) as pool:
            for done, _ in enumerate(pool.map(_write, missing), 1):
                print(f"  {done}/{len(missing)}", end="\r", flush=True)
        print()
    big = CACHE / "inputs" / _write(("big", 9999, f"big_{BIG_FRAME[0]}x{BIG_FRAME[1]}.dng"))
    names = [job[2] for job in jobs]
    step = max(1, len(names) // max(1, dngs))
    jpeg_names, dng_names = names[:jpegs], names[jpegs:]
    ordered: list[str] = []
    for index, name in enumerate(jpeg_names):
        ordered.append(name)
        if (index + 1) % step == 0 and dng_names:
            ordered.append(dng_names.pop(0))
    ordered += dng_names
    return [CACHE / "inputs" / name for name in ordered], big


# --- the load process --------------------------------------------------------------------------


def load(base_url: str, token: str, paths: Sequence[Path]) -> dict[str, Any]:
    """Upload each file in its own request over CONNECTIONS connections; what was accepted."""
    import requests

    local = threading.local()

    def upload(path: Path) -> tuple[float, int, str]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["Authorization"] = f"Token {token}"
        started = time.time()
        with path.open("rb") as body:
            response = session.post(f"{base_url}/api/photos/", files={"files": (path.name, body)})
        return started, response.status_code, response.text[:300]

    first = time.time()
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        answers = list(pool.map(upload, paths))
    refused = [(status, text) for _, status, text in answers if status != 201]
    times = os.times()
    return {
        "first_request": first,
        "last_answer": time.time(),
        "refused": refused,
        "cpu_s": times.user + times.system,
    }


def _run_load(base_url: str, token: str, paths: Sequence[Path]) -> dict[str, Any]:
    listing = CACHE / "load.json"
    listing.write_text(json.dumps([str(p) for p in paths]))
    done = subprocess.run(
        [sys.executable, __file__, "--load", base_url, token, str(listing)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"the load process failed:\n{done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    if answer["refused"]:
        raise SystemExit(f"uploads refused: {answer['refused'][:3]}")
    return answer


# --- the stack ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command name may hold spaces; the parent pid is the second field after it.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu_s(pids: Sequence[int]) -> float:
    """CPU seconds (user + system) the processes have used so far."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


@contextmanager
def _process(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting for {what} after {timeout_s:.0f} s")
        time.sleep(0.25)


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _fresh_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _ceiling(paths: Sequence[Path]) -> tuple[float, float]:
    """Files per second through validate() with previews alone, in POOL processes, and the CPU
    seconds they used."""
    with ProcessPoolExecutor(max_workers=POOL) as pool:
        list(pool.map(_validate_file, paths[:POOL]))  # imports and caches, once per process
        started = time.perf_counter()
        cpu = [_cpu_s([pid]) for pid in _children(os.getpid())]
        verdicts = list(pool.map(_validate_file, paths))
        elapsed = time.perf_counter() - started
        cpu_s = sum(_cpu_s([pid]) for pid in _children(os.getpid())) - sum(cpu)
    print(f"validator alone, {POOL} processes: {len(paths)} files in {elapsed:.1f} s, ", end="")
    print(f"{cpu_s:.0f} CPU seconds ", end="")
    print(f"({', '.join(f'{v} {verdicts.count(v)}' for v in sorted(set(verdicts)))})")
    return len(paths) / elapsed, cpu_s


def _validate_file(path: Path) -> str:
    from pipeline.core.errors import UnreadableImage
    from pipeline.core.validator import validate

    data = path.read_bytes()
    try:
        return validate(data, filename=path.name, preview_edges=PREVIEW_EDGES).verdict.value
    except UnreadableImage as unreadable:
        return f"unreadable:{unreadable.reason.value}"


def _verdict_times() -> tuple[list[float], float]:
    """Seconds from each accepted upload to its verdict, and when the last verdict came."""
    from django.db.models import Min, Q

    from gallery.models import Photo

    left_uploaded = Min("events__created_at", filter=~Q(events__to_status="uploaded"))
    rows = Photo.objects.annotate(verdict_at=left_uploaded).values_list("created_at", "verdict_at")
    waits = [(verdict - created).total_seconds() for created, verdict in rows]
    last = max(verdict for _, verdict in rows).timestamp()
    return waits, last


def _sample_rss(pids: Sequence[int], stop: threading.Event, peaks: dict[int, float]) -> None:
    while not stop.is_set():
        for pid in pids:
            peaks[pid] = max(peaks.get(pid, 0.0), _status_mib(pid, "VmRSS"))
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jpegs", type=int, default=200)
    parser.add_argument("--dngs", type=int, default=20)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parjanya_bench_ingest"
        ),
        help="a scratch database: dropped and created afresh",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"),
        help="a scratch Redis database: emptied first",
    )
    parser.add_argument("--load", nargs=3, metavar=("BASE_URL", "TOKEN", "LISTING"))
    args = parser.parse_args()
    if args.load:
        base_url, token, listing = args.load
        paths = [Path(p) for p in json.loads(Path(listing).read_text())]
        print(json.dumps(load(base_url, token, paths)))
        return 0

    paths, big = inputs(args.jpegs, args.dngs)
    gib = sum(p.stat().st_size for p in paths) / 2**30
    print(f"{len(paths)} files ({args.jpegs} JPEG, {args.dngs} DNG), {gib:.2f} GiB; ", end="")
    print(f"big DNG {big.stat().st_size / 2**20:.0f} MiB")

    before_rate, before_cpu = _ceiling(paths)
    import redis

    _fresh_database(args.database_url)
    redis.Redis.from_url(args.broker_url).flushdb()
    media = CACHE / "media"
    shutil.rmtree(media, ignore_errors=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "curation.settings.test",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker_url,
        "DJANGO_MEDIA_ROOT": str(media),
        "UPLOAD_THROTTLE_RATE": "100000/minute",
    }
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from gallery.models import Photo

    user = get_user_model().objects.create_user("bench-ingest", password="bench-ingest-pw")
    token = Token.objects.create(user=user).key
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    logs = CACHE / "logs"
    logs.mkdir(exist_ok=True)
    # What the image runs (deploy/docker/entrypoint.py), listening on loopback only.
    web_argv = [
        f"127.0.0.1:{port}" if arg.startswith("0.0.0.0:") else arg
        for arg in command_for("web", {**env, "PORT": str(port)})
    ]
    worker_argv = [
        *command_for("worker", {**env, "CELERY_CONCURRENCY": str(POOL)}),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    with _process(web_argv, env, logs / "web.log") as web:
        _wait_for(lambda: _answers(f"{base_url}/healthz/"), 60, "the web server")
        with _process(worker_argv, env, logs / "worker.log") as worker:
            _wait_for(lambda: len(_children(worker.pid)) >= POOL, 60, "the worker's pool")
            print(f"uploading through {base_url} from a separate process ...", flush=True)
            web_cpu = _cpu_s([web.pid, *_children(web.pid)])
            # From here on: the worker's start-up (imports, forking its pool) is not ingest.
            worker_cpu = _cpu_s([worker.pid, *_children(worker.pid)])
            sent = _run_load(base_url, token, paths)
            web_cpu = _cpu_s([web.pid, *_children(web.pid)]) - web_cpu
            _wait_for(
                lambda: not Photo.objects.filter(status=Photo.Status.UPLOADED).exists(),
                DONE_TIMEOUT_S,
                "the last verdict",
            )
            pool_pids = _children(worker.pid)
            worker_rss = {pid: _status_mib(pid, "VmHWM") for pid in pool_pids}
            worker_cpu = _cpu_s([worker.pid, *pool_pids]) - worker_cpu
        waits, last_verdict = _verdict_times()
        elapsed = last_verdict - sent["first_request"]
        photos_s = len(paths) / elapsed
        counts = {s: Photo.objects.filter(status=s).count() for s in Photo.Status.values}
        print(
            f"ingest: {len(paths)} photos, first request to last verdict {elapsed:.1f} s "
            f"(uploads answered after {sent['last_answer'] - sent['first_request']:.1f} s); "
            + ", ".join(f"{status} {n}" for status, n in counts.items() if n)
        )
        print(
            f"CPU seconds over the ingest: Celery worker {worker_cpu:.0f}, web {web_cpu:.0f}, "
            f"load process {sent['cpu_s']:.0f} (2 cores: {2 * elapsed:.0f} available)"
        )
        print(
            f"worker pool processes, peak RSS: {sorted(round(v) for v in worker_rss.values())} MiB"
        )

        web_pids = _children(web.pid)
        before = {pid: _status_mib(pid, "VmRSS") for pid in web_pids}
        peaks: dict[int, float] = {}
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(web_pids, stop, peaks))
        sampler.start()
        try:
            _run_load(base_url, token, [big])
        finally:
            stop.set()
            sampler.join()
        growth = max(peaks[pid] - before[pid] for pid in web_pids)
        print(
            f"web workers' RSS before the {big.stat().st_size / 2**20:.0f} MiB upload: "
            f"{sorted(round(v) for v in before.values())} MiB, peak during it: "
            f"{sorted(round(v) for v in peaks.values())} MiB"
        )
        # The big DNG waited in the queue; a fresh worker ingests it alone.
        with _process(worker_argv, env, logs / "worker-big.log") as worker:
            _wait_for(
                lambda: not Photo.objects.filter(status=Photo.Status.UPLOADED).exists(),
                DONE_TIMEOUT_S,
                "the big DNG's verdict",
            )
            big_rss = max(_status_mib(pid, "VmHWM") for pid in _children(worker.pid))
        big_status = Photo.objects.order_by("-pk").values_list("status", flat=True)[0]
        print(f"big DNG ingested by a fresh worker ({big_status}): peak RSS {big_rss:.0f} MiB")
    after, after_cpu = _ceiling(paths)
    # Load from elsewhere drifts: the ceiling is the mean of a run before and one after.
    ceiling, ceiling_cpu = (before_rate + after) / 2, (before_cpu + after_cpu) / 2
    # The machine is shared: the wall-clock ratio moves with what else runs. CPU seconds per
    # photo do not, and say what the stack around the validator costs.
    ingest_cpu = worker_cpu + web_cpu + sent["cpu_s"]
    print(
        f"CPU seconds per photo: ingest {ingest_cpu / len(paths):.3f} (Celery worker "
        f"{worker_cpu / len(paths):.3f}), validator alone {ceiling_cpu / len(paths):.3f}"
    )
    p95 = statistics.quantiles(waits, n=20)[-1]
    shutil.rmtree(media, ignore_errors=True)
    print(
        f"ingest: photos_s={photos_s:.2f} vs_validator_ceiling={photos_s / ceiling:.2f} "
        f"p95_verdict_s={p95:.1f} worker_rss_mb={max(worker_rss.values()):.0f} "
        f"upload_rss_growth_mb={growth:.1f} big_raw_worker_rss_mb={big_rss:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
