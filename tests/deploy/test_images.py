"""What can be checked of the container images without Docker: their instructions, the
requirement sets they install against the wheel gate's targets, and the entrypoint itself."""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.wheelgate.index import Sources
from deploy.wheelgate.resolve import check_requirements
from deploy.wheelgate.sets import DEPLOYED_SETS
from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "deploy" / "docker"
ENTRYPOINT = DOCKER / "entrypoint.py"
IMAGES = {
    "web.Dockerfile": ("linux/arm64", "aarch64", "requirements/base.txt"),
    "gpu.Dockerfile": ("linux/amd64", "x86_64", "requirements/gpu.txt"),
}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_is_multi_stage_wheels_only_and_non_root(name: str) -> None:
    platform, _, requirements = IMAGES[name]
    steps = instructions(DOCKER / name)
    stages = [args for op, args in steps if op == "FROM"]
    assert len(stages) >= 2
    assert all(args.startswith(f"--platform={platform} ") for args in stages)
    assert any("python:3.12-slim-bookworm" in args for op, args in steps if op == "ARG")

    runs = [args for op, args in steps if op == "RUN"]
    pip_runs = [r for r in runs if re.search(r"\bpip (install|download)\b", r)]
    assert pip_runs and all("--only-binary=:all:" in r for r in pip_runs)
    assert all(requirements.split("/")[-1] in r for r in pip_runs)
    installs = [r for r in pip_runs if "pip install" in r]
    assert installs and all("--no-index" in r for r in installs), "runtime installs built wheels"

    final_stage = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [args for op, args in final_stage if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(op == "HEALTHCHECK" for op, _ in final_stage)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_every_file_the_image_copies_and_runs_exists(name: str) -> None:
    steps = instructions(DOCKER / name)
    for op, args in steps:
        if op == "COPY" and "--from=" not in args:
            sources = [a for a in args.split() if not a.startswith("--")][:-1]
            for source in sources:
                if source != "requirements/":
                    assert (ROOT / source).exists(), f"{name} copies missing {source}"
    entrypoint = next(args for op, args in steps if op == "ENTRYPOINT")
    assert "/app/deploy/docker/entrypoint.py" in entrypoint
    assert ENTRYPOINT.is_file()


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_requirements_are_what_the_gate_checks_for_its_platform(name: str) -> None:
    _, arch, requirements = IMAGES[name]
    [gated] = [s for s in DEPLOYED_SETS if s.path == requirements]
    assert gated.target.arch == arch
    assert gated.target.python_version == "3.12"
    # bookworm's glibc: the gate must not assume a newer one than the image has.
    assert gated.target.glibc_ceiling <= (2, 36)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(IMAGES))
def test_image_requirements_pass_the_gate_on_pypi(name: str) -> None:
    _, _, requirements = IMAGES[name]
    [gated] = [s for s in DEPLOYED_SETS if s.path == requirements]
    if not (ROOT / requirements).is_file():
        pytest.fail(f"{requirements} does not exist")
    report = check_requirements(ROOT / requirements, gated.target, Sources())
    assert report.gate_failures() == []


def run_entrypoint(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ENTRYPOINT), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PARJANYA_APP_DIR": str(ROOT), **(env or {})},
        timeout=60,
        check=False,
    )


def test_entrypoint_help_lists_roles() -> None:
    result = run_entrypoint("--help")
    assert result.returncode == 0
    for role in ("web", "worker", "beat", "migrate", "scale", "gpu-worker", "healthcheck"):
        assert role in result.stdout


def test_entrypoint_web_runs_gunicorn_s_asgi_worker_on_the_asgi_app() -> None:
    result = run_entrypoint("web", "--dry-run", env={"PORT": "8123", "WEB_CONCURRENCY": "3"})
    assert result.returncode == 0
    argv = result.stdout.split()
    assert argv[1:3] == ["-m", "gunicorn"]
    assert "curation.asgi:application" in argv
    assert argv[argv.index("--worker-class") + 1] == "asgi"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:8123"
    assert argv[argv.index("--workers") + 1] == "3"
    assert (ROOT / "curation" / "asgi.py").is_file()


def test_entrypoint_worker_runs_celery_app_and_passes_extra_args() -> None:
    result = run_entrypoint("worker", "--dry-run", "--queues", "ingest")
    assert result.returncode == 0
    argv = result.stdout.split()
    assert argv[1:5] == ["-m", "celery", "--app", "curation"]
    assert argv[5] == "worker" and argv[-2:] == ["--queues", "ingest"]
    assert (ROOT / "curation" / "celery.py").is_file()


def test_entrypoint_rejects_unknown_role() -> None:
    result = run_entrypoint("cron")
    assert result.returncode == 2 and "invalid choice" in result.stderr


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/healthz/" else 503
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_web_healthcheck_follows_the_server(http_port: int) -> None:
    assert run_entrypoint("healthcheck", env={"PORT": str(http_port)}).returncode == 0
    failing = run_entrypoint(
        "healthcheck", env={"PORT": str(http_port), "HEALTHCHECK_PATH": "/broken/"}
    )
    assert failing.returncode == 1 and "503" in failing.stderr
    assert run_entrypoint("healthcheck", env={"PORT": str(free_port())}).returncode == 1


def test_gpu_worker_healthcheck_follows_the_heartbeat(tmp_path: Path) -> None:
    heartbeat = tmp_path / "heartbeat"
    env = {"PARJANYA_ROLE": "gpu-worker", "PARJANYA_HEARTBEAT_FILE": str(heartbeat)}
    assert run_entrypoint("healthcheck", env=env).returncode == 1
    heartbeat.touch()
    assert run_entrypoint("healthcheck", env=env).returncode == 0
    stale = time.time() - 3600
    os.utime(heartbeat, (stale, stale))
    result = run_entrypoint("healthcheck", env=env)
    assert result.returncode == 1 and "old" in result.stderr
