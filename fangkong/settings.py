"""Settings, read from the environment (FANGKONG_*), with safe local defaults."""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_secret(name: str, default: str) -> str:
    """A secret from NAME, or from the file NAME_FILE points at (for container secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


DATA_DIR = Path(os.environ.get("FANGKONG_DATA_DIR", PROJECT_DIR / "var"))
DEBUG = env_bool("FANGKONG_DEBUG", False)
# Private signing keys and the pseudonym key live here, never in the repository.
KEY_DIR = Path(os.environ.get("FANGKONG_KEY_DIR", DATA_DIR / "keys"))
# How long a QR code stays valid: short, so a screenshot goes stale (DESIGN §5).
CODE_TOKEN_TTL_SECONDS = int(os.environ.get("FANGKONG_CODE_TTL_SECONDS", "180"))
# Text messages go through this class (fangkong.residents.sms); the outbox page shows what the
# demo "sent" and exists only where FANGKONG_DEV_OUTBOX is on (make demo turns it on).
# The service time a clearance should be decided within (the review desk marks it overdue after).
CLEARANCE_TARGET_HOURS = int(os.environ.get("FANGKONG_CLEARANCE_TARGET_HOURS", "24"))
# Evidence files of appeals and employer lists: outside the web root, served by a checked view.
EVIDENCE_DIR = Path(os.environ.get("FANGKONG_EVIDENCE_DIR", DATA_DIR / "evidence"))
EVIDENCE_MAX_BYTES = int(os.environ.get("FANGKONG_EVIDENCE_MAX_BYTES", str(5 * 1024 * 1024)))
EVIDENCE_FILES_PER_REQUEST = 5
# A resident may open this many online appeals (or resubmit) in 24 hours.
APPEALS_PER_DAY = int(os.environ.get("FANGKONG_APPEALS_PER_DAY", "3"))
# A resident may report this many antigen self-tests in 24 hours.
ANTIGEN_REPORTS_PER_DAY = int(os.environ.get("FANGKONG_ANTIGEN_REPORTS_PER_DAY", "3"))
# Sign-in limits (fangkong/accounts/throttle.py), counted in the database every node shares.
# A client is its address; X-Forwarded-For is believed only from these proxies.
TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("FANGKONG_TRUSTED_PROXIES", "").split(",") if p.strip()
]
SIGNIN_CODES_PER_CLIENT = int(os.environ.get("FANGKONG_SIGNIN_CODES_PER_CLIENT", "10"))
SIGNIN_WRONG_CODES_PER_CLIENT = int(os.environ.get("FANGKONG_SIGNIN_WRONG_CODES_PER_CLIENT", "20"))
SIGNIN_PASSWORD_FAILURES = int(os.environ.get("FANGKONG_SIGNIN_PASSWORD_FAILURES", "5"))
SIGNIN_PASSWORD_FAILURES_PER_CLIENT = int(
    os.environ.get("FANGKONG_SIGNIN_PASSWORD_FAILURES_PER_CLIENT", "20")
)
# Registered and unknown ID numbers are answered after the same delay.
SIGNIN_ANSWER_SECONDS = float(os.environ.get("FANGKONG_SIGNIN_ANSWER_SECONDS", "0.3"))
# Evidence files no record references are swept after this long (`fangkong evidence sweep`).
EVIDENCE_ORPHAN_GRACE_HOURS = float(os.environ.get("FANGKONG_EVIDENCE_ORPHAN_GRACE_HOURS", "24"))
SMS_SENDER = os.environ.get("FANGKONG_SMS_SENDER", "fangkong.residents.sms.OutboxSender")
DEV_OUTBOX = env_bool("FANGKONG_DEV_OUTBOX", DEBUG)
DEVELOPMENT_SECRET_KEY = "insecure-local-development-key-change-me"  # noqa: S105 (public)
SECRET_KEY = env_secret("FANGKONG_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
ALLOWED_HOSTS = os.environ.get("FANGKONG_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("FANGKONG_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "fangkong.accounts",
    "fangkong.audit",
    "fangkong.places",
    "fangkong.people",
    "fangkong.testing",
    "fangkong.ingest",
    "fangkong.policies",
    "fangkong.codes",
    "fangkong.signing",
    "fangkong.zones",
    "fangkong.exits",
    "fangkong.checkpoints",
    "fangkong.residents",
    "fangkong.clearances",
    "fangkong.cases",
    "fangkong.enterprises",
    "fangkong.passes",
    "fangkong.tickets",
    "fangkong.supplies",
    "django_tasks",
    "django_tasks_db",
    "fangkong.clock",
]

# Background work (Django's Tasks API, the django-tasks backport): tasks are rows in the
# database, run by `fangkong worker` (django-tasks-db's db_worker), on SQLite and PostgreSQL
# alike. The clock (fangkong.clock) is one such task, rescheduling itself; docs/clock.md.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The clock sweeps at the next instant something is due, and at least this often, so work no
# instant announces (facts a crashed load left pending) is picked up.
CLOCK_SWEEP_MINUTES = float(os.environ.get("FANGKONG_CLOCK_SWEEP_MINUTES", "5"))
# A background task (an employer's list, the audit log's full check) not finished after this
# long is reported interrupted: its worker died (the page offers to start it again).
TASK_STALE_MINUTES = float(os.environ.get("FANGKONG_TASK_STALE_MINUTES", "30"))

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "fangkong.base.http.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fangkong.urls"
WSGI_APPLICATION = "fangkong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fangkong.accounts.context.staff",
            ],
            "builtins": ["fangkong.base.display"],
        },
    },
]

# SQLite is the embedded default; FANGKONG_DATABASE_URL=postgresql://... selects PostgreSQL.
DATABASE_URL = os.environ.get("FANGKONG_DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "fangkong.sqlite3",
            "OPTIONS": {
                # One writer at a time, taken at BEGIN so writers queue instead of failing.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-200000; PRAGMA temp_store=MEMORY;"
                ),
            },
            "TEST": {"NAME": DATA_DIR / "test.sqlite3"}
            if env_bool("FANGKONG_TEST_FILE_DB")
            else {},
        }
    }
# A streaming replica of the PostgreSQL primary (docs/scaling.md): the resident page and the
# verifier may read from it (fangkong.base.replica); everything else reads and writes `default`.
# Tests point it at `default` (MIRROR) so the routed paths run on the same data.
REPLICA_DATABASE_URL = os.environ.get("FANGKONG_REPLICA_DATABASE_URL", "")
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(REPLICA_DATABASE_URL, conn_max_age=60),
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["fangkong.base.replica.ReplicaRouter"]

# Where sessions live (docs/scaling.md, "Sessions"): `db` (the default, needs nothing but the
# database every node shares) or `redis` (FANGKONG_REDIS_URL; cached_db: read from Redis,
# written through to the database, so a Redis restart signs nobody out).
SESSION_STORE = os.environ.get("FANGKONG_SESSION_STORE", "db")
REDIS_URL = os.environ.get("FANGKONG_REDIS_URL", "redis://127.0.0.1:6379/0")
if SESSION_STORE == "redis":
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sessions": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "fangkong",
        },
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
elif SESSION_STORE != "db":
    raise ImproperlyConfigured("FANGKONG_SESSION_STORE must be `db` or `redis`")

# The overload guard (fangkong.base.admission): a request that waited in the queues longer than
# this before the app got it is answered 503 at once. The stamp it reads is believed only
# behind the repo's nginx (deploy/nginx.conf), which overwrites whatever a client sent.
ADMISSION_MAX_QUEUE_SECONDS = float(os.environ.get("FANGKONG_ADMISSION_MAX_QUEUE_SECONDS", "1.0"))
TRUST_REQUEST_START = env_bool("FANGKONG_TRUST_REQUEST_START", False)
# The verifier's gate log: each app process appends scans to a spool file here and a flusher
# writes them in batches (docs/verify-hot-path.md). Local disk of the node; after a node dies
# its files are replayed by any process that finds them (or `fangkong gatelog drain`).
GATE_LOG_SPOOL_DIR = Path(os.environ.get("FANGKONG_GATE_LOG_SPOOL_DIR", DATA_DIR / "gatelog"))
# Scans a second one checkpoint's device key may send to one app process (429 beyond): a gate
# scans a few people a second; a flood from one key is a stolen or broken device.
CHECKPOINT_SCANS_PER_SECOND = int(os.environ.get("FANGKONG_CHECKPOINT_SCANS_PER_SECOND", "50"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"

# Served over HTTPS (production): FANGKONG_SECURE_COOKIES=1 turns on all of the below; `make demo`
# over plain HTTP leaves it off. README "Running in production" explains each one.
HTTPS = env_bool("FANGKONG_SECURE_COOKIES", False)
if HTTPS and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "FANGKONG_SECRET_KEY (or FANGKONG_SECRET_KEY_FILE) must be set when serving over HTTPS"
    )
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env_bool("FANGKONG_SSL_REDIRECT", HTTPS)
SECURE_HSTS_SECONDS = int(os.environ.get("FANGKONG_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("FANGKONG_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env_bool("FANGKONG_HSTS_PRELOAD", HTTPS)
# The TLS-terminating proxy says the request came over HTTPS; it must set (not pass on) this
# header, or a client could claim HTTPS itself. Off with FANGKONG_PROXY_SSL_HEADER=0.
if env_bool("FANGKONG_PROXY_SSL_HEADER", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts, styles, images and connections from this site
# only; an inline <script> or <style> runs only with the page's nonce (nonce="{{
# request.csp_nonce }}"), and no style="" attribute or onclick="" in the markup does. data:
# images are the icons inside vendored CSS (Swagger UI).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# A refused form is explained in Chinese, in the site's own page (Django's default is English).
CSRF_FAILURE_VIEW = "fangkong.views.csrf_failure"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
WHITENOISE_USE_FINDERS = True

# Uploads stream to disk above this size instead of memory (Django's default, 2.5 MB).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The largest body read into memory: the ingest API's JSON rows (32 MB).
DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024
# Files uploaded on the ingest page (refused unread above this; fangkong/ingest/limits.py has
# the other routes' limits, docs/ingest.md the proxy's).
FANGKONG_INGEST_MAX_UPLOAD_BYTES = int(
    os.environ.get("FANGKONG_INGEST_MAX_UPLOAD_BYTES", str(512 * 1024 * 1024))
)
# Rows merged (and committed, with their counts and audit entry) at once: what a killed load can
# leave half done, and the memory a merge's staging takes.
INGEST_MERGE_ROWS = int(os.environ.get("FANGKONG_INGEST_MERGE_ROWS", "1000000"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FANGKONG_LOG_LEVEL", "WARNING")},
}
