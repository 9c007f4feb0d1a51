"""Settings shared by every environment. Everything configurable is read from the environment
through the single `env` object below; see the README's configuration table."""

from datetime import timedelta
from pathlib import Path

import environ

from curation.csp import bucket_origins, content_security_policy

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "gallery.apps.GalleryConfig",
    "culling.apps.CullingConfig",
    "accounts.apps.AccountsConfig",
    "pipeline.apps.PipelineConfig",
    "gpu_worker.apps.GpuWorkerConfig",
]

MIDDLEWARE = [
    # Health probes, answered before the Host check (README "Faults and limits").
    "curation.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (curation/csp.py).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "curation.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "curation.urls"
WSGI_APPLICATION = "curation.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gallery.context_processors.scoring",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'parjanya.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has a web process and a Celery worker writing to one file: WAL lets
    # readers proceed during a write, and the timeout turns lock contention into waiting.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=VAR_DIR / "static")
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"

# Accounts (accounts/): the app's own login page for everyone; logging out of the app or of the
# admin lands back on it. After login each role goes to its own home (accounts.selectors).
LOGIN_URL = "login"
LOGOUT_REDIRECT_URL = "login"
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=7)
SIGNUP_OPEN = env.bool("SIGNUP_OPEN", default=False)

# Mail: invitations and password resets. SMTP unless EMAIL_BACKEND says otherwise (local
# settings print mail to the console instead).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Parjanya <noreply@localhost>")

# Storage: local files by default; S3 (django-storages) as soon as a bucket is configured.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
    AWS_DEFAULT_ACL = None
    AWS_S3_FILE_OVERWRITE = False
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=300)
    AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="auto")
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    _default_storage = {"BACKEND": "gallery.storage.OriginalsS3Storage"}
    _bucket_origins = bucket_origins(
        bucket=AWS_STORAGE_BUCKET_NAME,
        endpoint_url=AWS_S3_ENDPOINT_URL,
        region=AWS_S3_REGION_NAME,
        addressing_style=AWS_S3_ADDRESSING_STYLE,
    )
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    _bucket_origins = []
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Uploads: files above 2.5 MB spool to a temporary file, so no upload is ever held whole in memory.
UPLOAD_MAX_FILE_BYTES = env.int("UPLOAD_MAX_FILE_BYTES", default=200 * 1024 * 1024)
UPLOAD_MAX_FILES_PER_REQUEST = env.int("UPLOAD_MAX_FILES_PER_REQUEST", default=100)
# Direct-to-S3 multipart uploads (S3 mode only, /api/uploads/).
DIRECT_UPLOAD_MAX_BYTES = env.int("DIRECT_UPLOAD_MAX_BYTES", default=UPLOAD_MAX_FILE_BYTES)
DIRECT_UPLOAD_PART_BYTES = env.int("DIRECT_UPLOAD_PART_BYTES", default=16 * 1024 * 1024)
DIRECT_UPLOAD_URL_EXPIRE_S = env.int("DIRECT_UPLOAD_URL_EXPIRE_S", default=3600)
# Matches the bucket's 2-day AbortIncompleteMultipartUpload rule.
DIRECT_UPLOAD_MAX_AGE_S = env.int("DIRECT_UPLOAD_MAX_AGE_S", default=2 * 24 * 3600)
FILE_UPLOAD_HANDLERS = ["gallery.upload_handlers.HashingSizeLimitedUploadHandler"]
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES_PER_REQUEST
FILE_UPLOAD_PERMISSIONS = 0o640

REST_FRAMEWORK = {
    # Token first: DRF answers a request without credentials with the first class's
    # challenge, so an API client gets 401 and `WWW-Authenticate: Token`, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # TokenAuthentication that refuses an address after too many wrong tokens (429).
        "gallery.api.throttling.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Refused direct uploads and a file store that does not answer, as JSON (503 + Retry-After).
    "EXCEPTION_HANDLER": "gallery.api.exceptions.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Parjanya API",
    "DESCRIPTION": (
        "Upload photos and follow them through validation, dedup and scoring. Authenticate "
        "with the header `Authorization: Token YOUR_TOKEN`; create the token on your account "
        "page (/accounts/). The guide with examples is at /accounts/api/."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Request bodies get their own components, so uploaded files are `binary`, not URLs.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "gallery.api.schema.document_common_errors",
    ],
}

# Celery. The embedded default uses kombu's filesystem transport: a real broker that needs no
# server (measured: ~10x faster than sqla+sqlite, nothing lost or duplicated across processes).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
_broker_dir = Path(env.str("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # A task a dead worker held goes back to the queue after this long: longer than the ingest
    # time limit plus the longest retry countdown (300 s), so a live worker never loses one.
    else {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Pipeline.
VALIDATOR_THRESHOLDS = env.json("VALIDATOR_THRESHOLDS", default={})
PIPELINE_VALIDATION = env.str("PIPELINE_VALIDATION", default="celery")
# PIPELINE_VALIDATION=lambda: the validator Lambda's results table (deploy sets RESULTS_TABLE).
PIPELINE_LAMBDA_RESULTS_TABLE = env.str("RESULTS_TABLE", default="")
PIPELINE_LAMBDA_DYNAMODB_ENDPOINT_URL = env.str("PIPELINE_LAMBDA_DYNAMODB_ENDPOINT_URL", default="")
PIPELINE_LAMBDA_WAIT_S = env.float("PIPELINE_LAMBDA_WAIT_S", default=60.0)
# Near-duplicate index (pipeline/dedup): the SQL store is the embedded default; production
# Celery workers and the validator Lambda share the DynamoDB table.
DEDUP_STORE = env.str("DEDUP_STORE", default="sql")
DEDUP_TABLE = env.str("DEDUP_TABLE", default="parjanya-dedup")
DEDUP_ENDPOINT_URL = env.str("DEDUP_ENDPOINT_URL", default="")
DEDUP_REGION = env.str("DEDUP_REGION", default="us-east-1")
DEDUP_RADIUS = env.int("DEDUP_RADIUS", default=8)
DEDUP_DHASH_RADIUS = env.int("DEDUP_DHASH_RADIUS", default=12)
DEDUP_SCOPE = env.str("DEDUP_SCOPE", default="owner")
# Burst stacks (pipeline/core/stacking.py, docs/adr/0010-stacks-and-keeper-ranking.md): frames of
# one camera at most STACK_GAP_S apart whose hashes are within these distances.
STACK_GAP_S = env.float("STACK_GAP_S", default=2.0)
STACK_MAX_PHASH = env.int("STACK_MAX_PHASH", default=18)
STACK_MAX_DHASH = env.int("STACK_MAX_DHASH", default=18)
# Operators: backfill checkpoints, and cost_report's prices/deployment overrides (field names of
# pipeline.costs.Prices / Deployment, e.g. {"g5_xlarge_per_hour": 1.212}).
BACKFILL_CHECKPOINT_DIR = env.path("BACKFILL_CHECKPOINT_DIR", default=VAR_DIR / "backfill")
COST_REPORT_PRICES = env.json("COST_REPORT_PRICES", default={})
COST_REPORT_DEPLOYMENT = env.json("COST_REPORT_DEPLOYMENT", default={})
INGEST_TASK_TIME_LIMIT_S = env.int("INGEST_TASK_TIME_LIMIT_S", default=120)
INGEST_MAX_RETRIES = env.int("INGEST_MAX_RETRIES", default=5)
PREVIEW_LONG_EDGE = 1600
THUMBNAIL_LONG_EDGE = 400

# GPU worker, read once per command into gpu_worker/conf.py's config objects. The model is
# read from a local directory only.
VLM_MODEL_PATH = env.str("VLM_MODEL_PATH", default="")
# Whether photos that pass the validator wait for a VLM score. Off, they go straight to review as
# `unscored`; `backfill --stage score` sends them to the scorer once it is on. Locally a scorer
# exists exactly when weights are configured; production overrides this (its GPU fleet, not the
# web and Celery hosts, holds the weights).
SCORING_ENABLED = env.bool("SCORING_ENABLED", default=bool(VLM_MODEL_PATH))
VLM_MODEL_ID = env.str("VLM_MODEL_ID", default="")
VLM_BACKEND = env.str("VLM_BACKEND", default="auto")
VLM_DEVICE = env.str("VLM_DEVICE", default="auto")
VLM_DTYPE = env.str("VLM_DTYPE", default="")
VLM_BATCH_SIZE = env.int("VLM_BATCH_SIZE", default=8)
VLM_MIN_PIXELS = env.int("VLM_MIN_PIXELS", default=64 * 32 * 32)
VLM_MAX_PIXELS = env.int("VLM_MAX_PIXELS", default=1024 * 32 * 32)
VLM_SCORE_THRESHOLD = env.float("VLM_SCORE_THRESHOLD", default=0.4)
GPU_WORKER_LEASE_SECONDS = env.int("GPU_WORKER_LEASE_SECONDS", default=300)
GPU_WORKER_CLAIM_BATCHES = env.int("GPU_WORKER_CLAIM_BATCHES", default=2)
GPU_WORKER_POLL_SECONDS = env.float("GPU_WORKER_POLL_SECONDS", default=5.0)
GPU_WORKER_INSTANCE_ID = env.str("GPU_WORKER_INSTANCE_ID", default="")
GPU_FLEET_ASG_NAME = env.str("GPU_FLEET_ASG_NAME", default="")
GPU_FLEET_REGION = env.str("GPU_FLEET_REGION", default="")
GPU_FLEET_MIN_INSTANCES = env.int("GPU_FLEET_MIN_INSTANCES", default=0)
GPU_FLEET_MAX_INSTANCES = env.int("GPU_FLEET_MAX_INSTANCES", default=4)
GPU_FLEET_IMAGES_PER_INSTANCE_PER_TICK = env.int(
    "GPU_FLEET_IMAGES_PER_INSTANCE_PER_TICK", default=600
)
GPU_FLEET_IDLE_TICKS_TO_MINIMUM = env.int("GPU_FLEET_IDLE_TICKS_TO_MINIMUM", default=5)
GPU_FLEET_SCALE_IN_AFTER_TICKS = env.int("GPU_FLEET_SCALE_IN_AFTER_TICKS", default=3)

# --- Faults and limits (README "Faults and limits") ----------------------------------------
# Content-Security-Policy (curation/csp.py): scripts, styles and images from this site only,
# plus the bucket's origin for direct uploads and signed image URLs when S3 is configured.
CONTENT_SECURITY_POLICY = content_security_policy(bucket_origins=_bucket_origins)
# Seconds a client is told to wait (Retry-After) when the database, broker or storage is down.
UNAVAILABLE_RETRY_AFTER_S = env.int("UNAVAILABLE_RETRY_AFTER_S", default=30)
# The ingest reconciler (runs inside every Celery worker): every INGEST_RECONCILE_EVERY_S it
# re-sends the ingest of photos still `uploaded` whose message the broker never took, or took
# more than INGEST_RECONCILE_AFTER_S ago. 0 turns it off.
INGEST_RECONCILE_EVERY_S = env.int("INGEST_RECONCILE_EVERY_S", default=60)
INGEST_RECONCILE_AFTER_S = env.int("INGEST_RECONCILE_AFTER_S", default=300)
# Throttles (429 with Retry-After): upload requests per photographer, wrong API tokens per client
# address. Behind a load balancer set TRUSTED_PROXY_COUNT=1 so the address is the client's (from
# X-Forwarded-For), not the balancer's; 0 uses the socket's address and ignores the header.
UPLOAD_THROTTLE_RATE = env.str("UPLOAD_THROTTLE_RATE", default="240/minute")
TOKEN_FAILURE_THROTTLE_RATE = env.str("TOKEN_FAILURE_THROTTLE_RATE", default="20/minute")
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# Sign-in attempts (django-axes, records in the database): LOGIN_FAILURE_LIMIT wrong passwords
# for one account, or from one address, lock that account or address out of signing in for
# LOGIN_LOCKOUT_S (429 with Retry-After); a right password resets the account's count.
INSTALLED_APPS = [*INSTALLED_APPS, "axes"]
MIDDLEWARE = [*MIDDLEWARE, "axes.middleware.AxesMiddleware"]
AUTHENTICATION_BACKENDS = [
    "curation.login_limits.LoginLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_LOCKOUT_S", default=900))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
# Its version banner would open the output of every manage.py command.
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "curation.login_limits.client_ip"
AXES_LOCKOUT_CALLABLE = "curation.login_limits.lockout_response"
# Throttle counts (and login lockouts) must be shared by every web process: a Redis URL in
# production; the local-memory default is per process.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env.str("CACHE_URL")}
        if env.str("CACHE_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Set (the web image does), uploads spool in this folder of their own instead of the system's
# temporary folder, and each web process's start-up sweep removes what a killed process left
# half written there: files older than UPLOAD_TEMP_MAX_AGE_S.
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default="") or None
UPLOAD_TEMP_MAX_AGE_S = env.int("UPLOAD_TEMP_MAX_AGE_S", default=3600)
# A database host that drops packets must fail a request (503) in seconds, not hang a worker.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT_S", default=5
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # exifread logs "File format not recognized" for every container it cannot parse.
    "loggers": {"exifread": {"level": "ERROR"}},
}
