#!/usr/bin/env python3
"""Container entrypoint: one image, several roles.

    entrypoint.py web | worker | beat | migrate | scale | gpu-worker | healthcheck [--dry-run]

Only the standard library is used, so ``healthcheck`` stays cheap and works before Django loads.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

APP_DIR = Path(os.environ.get("PARJANYA_APP_DIR", Path(__file__).resolve().parents[2]))


def command_for(role: str, env: Mapping[str, str]) -> list[str]:
    """The argv a role runs, configured from the environment."""
    manage = [sys.executable, str(APP_DIR / "manage.py")]
    celery = [sys.executable, "-m", "celery", "--app", "curation"]
    if role == "web":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            # gunicorn's asyncio worker reads each request (headers and body) on its event loop
            # and hands Django a complete one: a slow client holds a connection, not a worker
            # (docs/adr/0006-slow-clients-asgi-worker.md).
            "curation.asgi:application",
            "--worker-class",
            "asgi",
            "--bind",
            f"0.0.0.0:{env.get('PORT', '8000')}",
            "--workers",
            env.get("WEB_CONCURRENCY", "3"),
            # Open connections per worker, slow ones included.
            "--worker-connections",
            env.get("WEB_CONNECTIONS", "1000"),
            # Also the longest wait for the next piece of a request body: a client silent this
            # long is dropped. Large RAW uploads go straight to S3.
            "--timeout",
            env.get("WEB_TIMEOUT", "60"),
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            env.get("FORWARDED_ALLOW_IPS", "*"),
        ]
    if role == "worker":
        return [
            *celery,
            "worker",
            "--loglevel",
            env.get("CELERY_LOGLEVEL", "INFO"),
            "--concurrency",
            env.get("CELERY_CONCURRENCY", "2"),
            "--hostname",
            "worker@%h",
        ]
    if role == "beat":
        return [*celery, "beat", "--loglevel", "INFO"]
    if role == "migrate":
        return [*manage, "migrate", "--noinput"]
    if role == "scale":
        return [*manage, "scale_gpu_fleet"]
    if role == "gpu-worker":
        return [*manage, "run_gpu_worker"]
    raise ValueError(f"unknown role {role!r}")


ROLES = ("web", "worker", "beat", "migrate", "scale", "gpu-worker")


def healthcheck(env: Mapping[str, str]) -> int:
    """0 when the role named by PARJANYA_ROLE is serving, 1 otherwise (Docker's convention)."""
    role = env.get("PARJANYA_ROLE", "web")
    if role == "web":
        path = env.get("HEALTHCHECK_PATH", "/healthz/")
        url = f"http://127.0.0.1:{env.get('PORT', '8000')}{path}"
        try:
            with urllib.request.urlopen(url, timeout=4) as response:
                status = int(response.status)
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            print(f"unhealthy: {url}: {error}", file=sys.stderr)
            return 1
        # Liveness: gunicorn answers and Django does not error. A 404 still proves both.
        if status >= 500:
            print(f"unhealthy: {url} answered {status}", file=sys.stderr)
            return 1
        return 0
    if role == "worker":
        # Ping this container's worker only: another worker answering proves nothing here.
        me = f"worker@{socket.gethostname()}"
        ping = ["inspect", "ping", "--timeout", "5", "--destination", me]
        os.execv(sys.executable, [sys.executable, "-m", "celery", "--app", "curation", *ping])  # noqa: S606
    heartbeat = Path(env.get("PARJANYA_HEARTBEAT_FILE", "/tmp/parjanya-heartbeat"))  # noqa: S108
    max_age = float(env.get("PARJANYA_HEARTBEAT_MAX_AGE_S", "300"))
    try:
        age = time.time() - heartbeat.stat().st_mtime
    except OSError:
        print(f"unhealthy: no heartbeat file {heartbeat}", file=sys.stderr)
        return 1
    if age > max_age:
        print(f"unhealthy: heartbeat {age:.0f} s old (max {max_age:.0f} s)", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="entrypoint.py",
        description="Run one role of the Parjanya image; extra arguments are passed through.",
    )
    parser.add_argument("role", choices=(*ROLES, "healthcheck"))
    parser.add_argument("--dry-run", action="store_true", help="print the command, do not run it")
    args, extra = parser.parse_known_args(argv)
    env = os.environ
    if args.role == "healthcheck":
        return healthcheck(env)
    command = [*command_for(args.role, env), *extra]
    if args.dry_run:
        print(" ".join(command))
        return 0
    os.chdir(APP_DIR)
    # exec: the server becomes PID 1's child directly and receives ECS's SIGTERM for draining.
    os.execv(command[0], command)  # noqa: S606


if __name__ == "__main__":
    sys.exit(main())
