"""`make faults`: the scenarios of issue 14 against real processes on 127.0.0.1.

A production-like stack (gunicorn as the web image runs it, the production settings, PostgreSQL,
Redis, a Celery worker with its reconciler) and, for the worker-death scenario, the embedded
default (`make run`: SQLite, the filesystem broker). PostgreSQL and Redis are reached through
TCP gates this script opens and closes, so an outage is a refused connection, as when the
server is down, without touching servers others use. Every loop is bounded; everything started
is stopped. Prints a table, then one line:

    faults: scenarios=N passed=N lost_uploads=0 stuck_photos=0 http_500=0
            slow_clients_held=50 p95_under_slow_ms=…   (on one line)

Configuration (so it can run beside the test suite): FAULTS_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/parjanya_faults, dropped and created again),
FAULTS_REDIS_URL (default redis://127.0.0.1:6379/3, flushed). Each scenario names the ordinary
test that covers it in `make test`.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
import redis  # noqa: E402
from faults_slow_clients import p95, slow_clients  # noqa: E402

from deploy.docker.entrypoint import command_for  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

PHOTOS = REPO.parent / "shared" / "testdata" / "photos"
DATABASE_URL = os.environ.get(
    "FAULTS_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/parjanya_faults"
)
REDIS_URL = os.environ.get("FAULTS_REDIS_URL", "redis://127.0.0.1:6379/3")
PASSWORD = "faults-pw-1234"  # a throwaway database's users
SLOW_CLIENTS = 50
WAIT_S = 120  # bounds every wait for the worker; a failing scenario, not a slow one, hits it


def wait_for(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return False


# Outages ---------------------------------------------------------------------------------------


class Gate:
    """A loopback TCP relay to a server. Down, its port refuses connections and every relayed
    connection is cut, exactly what clients see when the server itself goes away."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def up(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def down(self) -> None:
        assert self._listener is not None
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the socket
        # listening until that accept returned, letting one more connection through.
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._listener = None
        with self._lock:
            for conn in self._open:
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        for conn in (source, sink):
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    @contextmanager
    def closed(self) -> Iterator[None]:
        self.down()
        try:
            yield
        finally:
            self.up()


# HTTP ------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    set_cookies: list[str]

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Client:
    """One caller: its cookies, an API token or none. Every answer is tallied by status."""

    port: int
    tally: Counter[int]
    token: str = ""
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Answer:
        sent = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.token:
            sent.setdefault("Authorization", f"Token {self.token}")
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            answer = Answer(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read(),
                response.msg.get_all("Set-Cookie") or [],
            )
        except OSError:
            answer = Answer(0, {}, b"", [])
        finally:
            conn.close()
        self.tally[answer.status] += 1
        for header in answer.set_cookies:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return answer

    def get(self, path: str, **kwargs: object) -> Answer:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def upload(self, files: list[tuple[str, bytes]]) -> Answer:
        body, content_type = multipart(files)
        return self.request(
            "POST", "/api/photos/", body=body, headers={"Content-Type": content_type}
        )

    def login(self, username: str) -> bool:
        page = self.get("/accounts/login/")
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if not found:
            return False
        form = {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": found[1]}
        answer = self.request(
            "POST",
            "/accounts/login/",
            body=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        return answer.status == 302 and "sessionid" in self.cookies


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for name, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def photo(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


# The production-like stack -------------------------------------------------------------------


class Stack:
    def __init__(self, root: Path) -> None:
        db, broker = urlsplit(DATABASE_URL), urlsplit(REDIS_URL)
        self.root = root
        self.db_gate = Gate(db.hostname or "127.0.0.1", db.port or 5432)
        self.broker_gate = Gate(broker.hostname or "127.0.0.1", broker.port or 6379)
        self.port = free_port()
        self.media = root / "media"
        self.upload_tmp = root / "upload-tmp"
        self.tally: Counter[int] = Counter()
        gated_db = db._replace(netloc=f"{db.username or 'postgres'}@127.0.0.1:{self.db_gate.port}")
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "curation.settings.production",
            "DJANGO_SECRET_KEY": "faults-only",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            # The ALB ends TLS; plain HTTP on loopback is what a task sees behind it.
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": gated_db.geturl(),
            "DATABASE_CONNECT_TIMEOUT_S": "2",
            "CELERY_BROKER_URL": broker._replace(
                netloc=f"127.0.0.1:{self.broker_gate.port}"
            ).geturl(),
            "CELERY_VISIBILITY_TIMEOUT": "60",
            # Throttle counts shared by the web processes, straight to Redis (not gated).
            "CACHE_URL": REDIS_URL,
            "DJANGO_MEDIA_ROOT": str(self.media),
            "DJANGO_STATIC_ROOT": str(root / "static"),
            "FILE_UPLOAD_TEMP_DIR": str(self.upload_tmp),
            "INGEST_RECONCILE_EVERY_S": "2",
            "INGEST_RECONCILE_AFTER_S": "10",
            "SCORING_ENABLED": "false",
            "DEDUP_SCOPE": "global",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": "2",
            "CELERY_CONCURRENCY": "2",
            "CELERY_LOGLEVEL": "WARNING",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.tokens: dict[str, str] = {}

    def client(self, token_of: str = "") -> Client:
        return Client(self.port, self.tally, token=self.tokens.get(token_of, ""))

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )

    def start(self) -> None:
        with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as pg:
            name = urlsplit(DATABASE_URL).path.lstrip("/")
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            pg.execute(f'CREATE DATABASE "{name}"')
        redis.Redis.from_url(REDIS_URL).flushdb()
        self.db_gate.up()
        self.broker_gate.up()
        for folder in (self.media, self.upload_tmp):
            folder.mkdir(parents=True)
        self.manage("migrate", "--noinput", "--verbosity=0")
        self.manage("collectstatic", "--noinput", "--verbosity=0")
        made = self.manage(
            "shell",
            "-c",
            "import json\n"
            "from django.contrib.auth import get_user_model\n"
            "from rest_framework.authtoken.models import Token\n"
            "U = get_user_model()\n"
            f"users = [U.objects.create_user(n, password='{PASSWORD}') for n in ('ansel', 'bob')]\n"
            f"U.objects.create_user('staffer', password='{PASSWORD}', is_staff=True)\n"
            f"U.objects.create_superuser('curator', password='{PASSWORD}')\n"
            "print(json.dumps({u.username: Token.objects.create(user=u).key for u in users}))",
        )
        self.tokens = json.loads(made.stdout.strip().splitlines()[-1])
        self.start_web()
        self.start_worker()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.root / f"{name}.log").open("ab")
        # A session of its own: stopping it (or killing it) takes its children too.
        self.processes[name] = subprocess.Popen(
            argv, cwd=REPO, env=env or self.env, stdout=log, stderr=log, start_new_session=True
        )

    def start_web(self, env: dict[str, str] | None = None) -> None:
        self._spawn("web", command_for("web", env or self.env), env)
        if not wait_for(lambda: self.client().get("/healthz/").status == 200, 60):
            raise SystemExit(f"faults: the web server did not start; see {self.root}/web.log")

    def start_worker(self) -> None:
        argv = [*command_for("worker", self.env), "--without-gossip", "--without-mingle"]
        self._spawn("worker", argv)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)

    def rows(self) -> list[tuple[int, str, str, str]]:
        with psycopg.connect(DATABASE_URL) as db:
            return db.execute(
                "SELECT id, status, original, reject_detail FROM gallery_photo ORDER BY id"
            ).fetchall()

    def waiting(self) -> list[int]:
        return [pk for pk, status, _, _ in self.rows() if status == "uploaded"]


# Scenarios -------------------------------------------------------------------------------------


@dataclass
class Result:
    number: str
    name: str
    passed: bool
    observed: str
    test: str


@dataclass
class Totals:
    lost_uploads: int = 0
    stuck_photos: int = 0
    slow_clients_held: int = 0
    p95_under_slow_ms: float = 0.0
    accepted: list[int] = field(default_factory=list)


def _created(answer: Answer) -> list[dict[str, object]]:
    if answer.status not in (201, 207):
        return []
    return list(answer.json()["created"])


def broker_down_upload(stack: Stack, totals: Totals) -> tuple[bool, str]:
    api = stack.client("ansel")
    names = ["elephants.jpg", "cat_brown.jpg", "beach_sand.jpg"]
    with stack.broker_gate.closed():
        answer = api.upload([(n, photo(n)) for n in names])
        created = _created(answer)
        statuses = [c["status"] for c in created]
    ingested = wait_for(lambda: not stack.waiting())
    return (
        answer.status == 201 and statuses == ["uploaded"] * 3 and ingested,
        f"{answer.status}, {len(created)}/3 accepted as uploaded; ingested after the broker came "
        f"back: {'yes' if ingested else 'no'}",
    )


def database_down(stack: Stack, totals: Totals) -> tuple[bool, str]:
    api, browser = stack.client("ansel"), stack.client()
    browser.login("ansel")
    before = sum(1 for p in stack.media.rglob("*") if p.is_file())
    with stack.db_gate.closed():
        listing = api.get("/api/photos/")
        upload = api.upload([("building_mono.jpg", photo("building_mono.jpg"))])
        page = browser.get("/")
        live = api.get("/healthz/")
        ready = api.get("/readyz/")
    after = sum(1 for p in stack.media.rglob("*") if p.is_file())
    json_503 = all(
        a.status == 503 and a.headers.get("retry-after") and "json" in a.headers["content-type"]
        for a in (listing, upload, ready)
    )
    ok = json_503 and page.status == 503 and live.status == 200 and after == before
    return ok, (
        f"API {listing.status}, upload {upload.status} (files left: {after - before}), "
        f"page {page.status}, healthz {live.status}, readyz {ready.status}"
    )


def slow_clients_scenario(stack: Stack, totals: Totals) -> tuple[bool, str]:
    api = stack.client("ansel")
    with slow_clients("127.0.0.1", stack.port, count=SLOW_CLIENTS, interval_s=3) as clients:
        timings, statuses = [], []
        for path in ["/healthz/", "/api/photos/", "/accounts/login/"] * 10:
            started = time.perf_counter()
            statuses.append(api.get(path, timeout=30).status)
            timings.append((time.perf_counter() - started) * 1000)
        totals.slow_clients_held = clients.held()
    totals.p95_under_slow_ms = p95(timings)
    ok = set(statuses) == {200} and totals.slow_clients_held == SLOW_CLIENTS
    return ok, (
        f"{statuses.count(200)}/{len(statuses)} answered while {totals.slow_clients_held} slow "
        f"clients held on; p95 {totals.p95_under_slow_ms:.0f} ms, max {max(timings):.0f} ms"
    )


def throttling(stack: Stack, totals: Totals) -> tuple[bool, str]:
    guesser = Client(stack.port, stack.tally)
    passwords = []
    for _ in range(12):
        page = guesser.get("/accounts/login/")
        found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        csrf = found[1].decode() if found else ""
        form = {"username": "bob", "password": "wrong", "csrfmiddlewaretoken": csrf}
        passwords.append(
            guesser.request(
                "POST",
                "/accounts/login/",
                body=urlencode(form).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        )
    wrong_token = Client(stack.port, stack.tally, token="0" * 40)
    tokens = [wrong_token.get("/api/photos/") for _ in range(25)]
    locked = [a for a in passwords if a.status == 429]
    refused = [a for a in tokens if a.status == 429]
    ok = bool(locked and refused) and all(a.headers.get("retry-after") for a in locked + refused)
    # The address is locked out for tokens now: later scenarios would wait, so clear the counts.
    redis.Redis.from_url(REDIS_URL).flushdb()
    return ok, (
        f"wrong passwords: 429 from attempt {len(passwords) - len(locked) + 1}; wrong tokens: "
        f"429 from request {len(tokens) - len(refused) + 1}; Retry-After on each"
    )


def static_files(stack: Stack, totals: Totals) -> tuple[bool, str]:
    paths = [
        "/static/gallery/upload.js",
        "/static/admin/css/base.css",
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
    ]
    statuses = [stack.client().get(p).status for p in paths]
    return statuses == [200] * 3, f"upload.js, admin CSS, Swagger bundle: {statuses}"


def permissions(stack: Stack, totals: Totals) -> tuple[bool, str]:
    api = stack.client("ansel")
    [made] = _created(api.upload([("IMG_4120.JPG", photo("IMG_4120.JPG"))]))
    staffer, curator = stack.client(), stack.client()
    assert staffer.login("staffer") and curator.login("curator")
    kinds = ("original", "preview", "thumbnail")
    wait_for(lambda: not stack.waiting())
    denied = [staffer.get(f"/photos/{made['id']}/{k}").status for k in kinds]
    allowed = curator.get(f"/photos/{made['id']}/original").status
    ok = all(s in (403, 404) for s in denied) and allowed == 200
    return ok, f"staff without view_photo: {denied}; curator with it: {allowed}"


def global_duplicate(stack: Stack, totals: Totals) -> tuple[bool, str]:
    bob = stack.client("bob")
    [made] = _created(bob.upload([("elephants.jpg", photo("elephants.jpg"))]))
    wait_for(lambda: not stack.waiting())
    detail = bob.get(f"/api/photos/{made['id']}/").json()
    text = json.dumps(detail)
    ok = (
        detail["reject_reason"] == "duplicate"
        and "already in the library" in str(detail["reject_detail"])
        and text.count("elephants.jpg") == 1  # its own name, no other photographer's
        and detail["duplicate_of"] is None
    )
    return ok, f"{detail['reject_reason']}: {detail['reject_detail']!r}"


def bad_parameters(stack: Stack, totals: Totals) -> tuple[bool, str]:
    api, curator = stack.client("ansel"), stack.client()
    curator.login("curator")
    found = [
        api.get(f"/api/photos/?page={quote('²')}").status,
        api.get("/api/photos/?page=99999999999999999999").status,
        api.get("/api/photos/?status=nonsense").status,
        curator.get(f"/?page={quote('²')}").status,
        curator.get(f"/admin/gallery/photo/?owner={quote('²')}").status,
    ]
    return found == [404, 404, 400, 404, 400], f"page=², 20 digits, status, gallery, admin: {found}"


def bad_requests(stack: Stack, totals: Totals) -> tuple[bool, str]:
    api = stack.client("ansel")
    many = api.upload([(f"p{i}.jpg", b"x") for i in range(101)])
    errors = many.json().get("errors", []) if many.status == 400 else []
    mixed = api.upload([("ok.jpg", photo("cat_brown.jpg")), ("..", photo("cat_brown.jpg"))])
    created = _created(mixed)
    ok = (
        many.status == 400
        and "json" in many.headers.get("content-type", "")
        and bool(errors)
        and "100" in str(errors[0]["detail"])
        and mixed.status == 207
        and [c["original_filename"] for c in created] == ["ok.jpg"]
    )
    return ok, f"101 files: {many.status} {errors[:1]}; '..' next to a good file: {mixed.status}"


def download_names(stack: Stack, totals: Totals) -> tuple[bool, str]:
    api, owner = stack.client("ansel"), stack.client()
    owner.login("ansel")
    jpeg = photo("6720px_white.jpg")
    made = _created(api.upload([("evil.jpg\u202egpj.exe", jpeg), ("poly.html", jpeg)]))
    served = [
        owner.get(f"/photos/{m['id']}/original").headers.get("content-disposition", "")
        for m in made
    ]
    expected = ['attachment; filename="evil.jpggpj.jpg"', 'attachment; filename="poly.jpg"']
    return served == expected, "; ".join(served)


def killed_mid_upload(stack: Stack, totals: Totals) -> tuple[bool, str]:
    stale = stack.upload_tmp / "left-by-a-killed-process.upload"
    stale.write_bytes(b"\0" * 1024)
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    rows_before = len(stack.rows())
    body_size = 30 * 1024 * 1024
    head = (
        f"POST /api/photos/ HTTP/1.1\r\nHost: 127.0.0.1:{stack.port}\r\n"
        f"Authorization: Token {stack.tokens['ansel']}\r\n"
        "Content-Type: multipart/form-data; boundary=B\r\n"
        f"Content-Length: {body_size}\r\n\r\n"
        '--B\r\nContent-Disposition: form-data; name="files"; filename="big.jpg"\r\n\r\n'
    ).encode()
    with socket.create_connection(("127.0.0.1", stack.port)) as upload:
        upload.sendall(head + b"\xff" * (10 * 1024 * 1024))
        time.sleep(1)
        stack.kill("web")
    stack.start_web()
    left = sorted(p.name for p in stack.upload_tmp.iterdir())
    answers = stack.client().get("/healthz/").status
    recorded = len(stack.rows()) - rows_before
    return not left and answers == 200 and recorded == 0, (
        f"30 MB upload cut by SIGKILL at 10 MB: {recorded} photos recorded; after restart "
        f"the spool folder holds {left or 'nothing'} (a stale leftover was swept), web {answers}"
    )


def probes_by_task_ip(stack: Stack, totals: Totals) -> tuple[bool, str]:
    balancer = stack.client()
    found = [
        balancer.get(p, headers={"Host": "10.0.3.7"}).status
        for p in ("/healthz/", "/readyz/", "/accounts/login/")
    ]
    return found == [200, 200, 400], f"healthz, readyz, another page with Host 10.0.3.7: {found}"


def headers(stack: Stack, totals: Totals) -> tuple[bool, str]:
    answer = stack.client().get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    csp = answer.headers.get("content-security-policy", "")
    hsts = answer.headers.get("strict-transport-security", "")
    ok = "script-src 'self'" in csp and "unsafe-inline" not in csp and "max-age=31536000" in hsts
    return ok, f"CSP {'set' if csp else 'missing'}; HSTS {hsts or 'missing'}"


def backfill_stops(stack: Stack, totals: Totals) -> tuple[bool, str]:
    checkpoints = stack.root / "backfill"
    with psycopg.connect(DATABASE_URL) as db:
        [[started_at]] = db.execute("SELECT now()").fetchall()

    def sent() -> int:
        with psycopg.connect(DATABASE_URL) as db:
            query = "SELECT count(*) FROM gallery_photo WHERE ingest_queued_at > %s"
            return int(db.execute(query, (started_at,)).fetchall()[0][0])

    run = subprocess.Popen(
        [sys.executable, "manage.py", "backfill", "--stage", "validate", "--rate", "2",
         "--checkpoint-dir", str(checkpoints)],
        cwd=REPO, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # Interrupted once it is sending, as an operator's Ctrl-C would be.
    wait_for(lambda: sent() > 0 or run.poll() is not None, 60)
    run.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        out, _ = run.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        run.kill()
        out, _ = run.communicate()
    stopped_s = time.monotonic() - started
    settled = wait_for(lambda: not stack.waiting())
    ok = run.returncode == 130 and "processed:" in out and settled
    return ok, (
        f"exit {run.returncode} {stopped_s:.1f} s after SIGINT, {sent()} sent of "
        f"{len(stack.rows())}; every photo it reset ingested again: {'yes' if settled else 'no'}"
    )


def embedded_worker_killed(root: Path) -> tuple[bool, str, int, int]:
    """`make run` (SQLite, filesystem broker): SIGKILL the worker during 12 uploads."""
    var = root / "embedded"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL")
    }
    env |= {
        "DATABASE_URL": f"sqlite:///{var / 'parjanya.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://localhost//",
        "CELERY_BROKER_FOLDER": str(var / "broker"),
        "DJANGO_MEDIA_ROOT": str(var / "media"),
        "INGEST_RECONCILE_EVERY_S": "2",
        "INGEST_RECONCILE_AFTER_S": "10",
    }
    tally: Counter[int] = Counter()
    log = (root / "embedded.log").open("ab")
    runner = subprocess.Popen(
        [sys.executable, "-m", "curation.local_runner", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True,
    )  # fmt: skip
    try:
        if not wait_for(lambda: Client(port, tally).get("/healthz/").status == 200, 90):
            return False, "make run did not start", 0, 0
        token = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from django.contrib.auth import get_user_model\n"
             "from rest_framework.authtoken.models import Token\n"
             "u = get_user_model().objects.create_user('ansel')\n"
             "print(Token.objects.create(user=u).key)"],
            cwd=REPO, env=env, capture_output=True, text=True, check=True,
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        api = Client(port, tally, token=token)
        names = sorted(p.name for p in PHOTOS.glob("*.jpg"))
        accepted: list[str] = []
        for index in range(12):
            name = names[index % len(names)]
            accepted += [str(c["id"]) for c in _created(api.upload([(name, photo(name))]))]
            if index == 3:
                worker = _worker_of(runner.pid)
                if worker:
                    os.killpg(worker, signal.SIGKILL)

        def statuses() -> list[str]:
            listing = api.get("/api/photos/")
            if listing.status != 200:
                return ["unknown"]
            results = listing.json()["results"]
            return [str(p["status"]) for p in results]

        settled = wait_for(lambda: "uploaded" not in statuses())
        final = statuses()
        stuck = final.count("uploaded")
        ok = len(accepted) == 12 and settled and len(final) == 12 and worker is not None
        observed = f"{len(accepted)} accepted, worker killed, {stuck} left uploaded"
        return ok, observed, stuck, tally[500]
    finally:
        os.killpg(runner.pid, signal.SIGINT)
        try:
            runner.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()


def _worker_of(runner_pid: int) -> int | None:
    """The pid of the Celery worker `make run` started (its own process group)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
            if int(fields[1]) == runner_pid and b"celery" in cmdline:
                return int(stat.parent.name)
    return None


# The ordinary tests (in `make test`) that cover each scenario fast.
TESTS = {
    "probes": "tests/deploy/test_load_balancer_probes.py",
    "static": "tests/deploy/test_static_production.py",
    "headers": "tests/test_csp.py, tests/test_settings.py",
    "upload": "tests/gallery/test_upload_faults.py",
    "database": "tests/gallery/test_upload_faults.py, tests/test_health.py",
    "slow": "tests/deploy/test_slow_clients.py",
    "outsiders": "tests/gallery/test_outsiders.py",
    "parameters": "tests/gallery/test_bad_parameters.py, tests/test_api_fuzz.py",
    "requests": "tests/gallery/test_bad_parameters.py",
    "backfill": "tests/pipeline/test_backfill.py",
    "throttles": "tests/gallery/test_throttling.py, tests/test_login_limits.py",
    "reconciler": "tests/pipeline/test_reconciler.py",
}
# In an order that keeps each independent: throttling locks this address out, so it comes last.
SCENARIOS: list[tuple[str, str, Callable[[Stack, Totals], tuple[bool, str]], str]] = [
    ("13", "ALB probes by task IP", probes_by_task_ip, TESTS["probes"]),
    ("6", "static files", static_files, TESTS["static"]),
    ("14", "CSP and HSTS", headers, TESTS["headers"]),
    ("1", "broker down, upload", broker_down_upload, TESTS["upload"]),
    ("3", "database down", database_down, TESTS["database"]),
    ("4", "50 slow clients", slow_clients_scenario, TESTS["slow"]),
    ("7", "staff without view_photo", permissions, TESTS["outsiders"]),
    ("8", "global duplicate", global_duplicate, TESTS["outsiders"]),
    ("9", "bad parameters", bad_parameters, TESTS["parameters"]),
    ("10", "101 files, bad name", bad_requests, TESTS["requests"]),
    ("11", "download names", download_names, TESTS["requests"]),
    ("12", "web killed mid-upload", killed_mid_upload, TESTS["upload"]),
    ("15", "backfill SIGINT", backfill_stops, TESTS["backfill"]),
    ("5", "throttling", throttling, TESTS["throttles"]),
]


def main() -> int:
    root = Path(tempfile.mkdtemp(prefix="parjanya-faults-"))
    results: list[Result] = []
    totals = Totals()
    http_500 = 0
    stack = Stack(root)
    try:
        stack.start()
        for number, name, scenario, test in SCENARIOS:
            try:
                passed, observed = scenario(stack, totals)
            except Exception as error:  # a broken scenario is a failed row, not a lost table
                passed, observed = False, f"error: {error!r}"
            results.append(Result(number, name, passed, observed, test))
            print(f"  #{number} {name}: {'pass' if passed else 'FAIL'}", flush=True)
        wait_for(lambda: not stack.waiting())
        rows = stack.rows()
        totals.stuck_photos = sum(1 for _, status, _, _ in rows if status == "uploaded")
        totals.lost_uploads = sum(
            1 for _, _, original, _ in rows if not (stack.media / original).is_file()
        )
        http_500 = stack.tally[500]
    finally:
        stack.stop()
    passed, observed, stuck, embedded_500 = embedded_worker_killed(root)
    results.append(Result("2", "make run: worker SIGKILLed", passed, observed, TESTS["reconciler"]))
    totals.stuck_photos += stuck
    http_500 += embedded_500

    width = max(len(r.name) for r in results)
    print(f"\n{'#':>3}  {'scenario'.ljust(width)}  result  observed   (fast test)")
    for r in results:
        verdict = "pass" if r.passed else "FAIL"
        print(f"{r.number:>3}  {r.name.ljust(width)}  {verdict:6}  {r.observed}   ({r.test})")
    ok = sum(r.passed for r in results)
    print(
        f"faults: scenarios={len(results)} passed={ok} lost_uploads={totals.lost_uploads} "
        f"stuck_photos={totals.stuck_photos} http_500={http_500} "
        f"slow_clients_held={totals.slow_clients_held} "
        f"p95_under_slow_ms={totals.p95_under_slow_ms:.0f}"
    )
    clean = not (totals.lost_uploads or totals.stuck_photos or http_500)
    if ok == len(results) and clean:
        shutil.rmtree(root)
        return 0
    print(f"faults: logs and files kept in {root}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
