"""Django settings for the phiwatch server, read from the environment (server/env.py).

Variables (each also accepts ``NAME_FILE``):
  PHIWATCH_SERVER_HOME   data dir (SQLite database, TLS certificate, secret key)
  DATABASE_URL           e.g. postgres://user@host:5432/phiwatch; default SQLite in the data dir
  PHIWATCH_TEST_DB       "postgres": tests use postgres://postgres@127.0.0.1:5432/phiwatch
  PHIWATCH_SECRET_KEY    Django secret key; default: generated once into the data dir
  PHIWATCH_ALLOWED_HOSTS comma list; default "*" (agents connect by IP as often as by name)
  PHIWATCH_DEBUG         true/false (default false)
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url

from server.env import env_bool, env_list, env_str
from server.home import data_dir

BASE_DIR = Path(__file__).resolve().parent
HOME = data_dir()

DEBUG = env_bool("PHIWATCH_DEBUG", False)


def _secret_key() -> str:
    key = env_str("PHIWATCH_SECRET_KEY")
    if key:
        return key
    path = HOME / "secret_key"
    if not path.exists():
        # O_EXCL: two workers starting at once must not overwrite each other's key.
        try:
            with open(path, "x", encoding="ascii") as f:
                f.write(secrets.token_urlsafe(50))
            path.chmod(0o600)
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("PHIWATCH_ALLOWED_HOSTS", ["*"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "server.audit",
    "server.devices",
    "server.enrollment",
    "server.policy",
    "server.checkins",
    "server.findings",
    "server.violations",
    "server.serve",
    "server.accounts",
    "server.console",
    "server.lifecycle",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "server.middleware.BodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

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
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------------
_TEST_PG = "postgres://postgres@127.0.0.1:5432/phiwatch"
_url = env_str("DATABASE_URL") or (_TEST_PG if env_str("PHIWATCH_TEST_DB") == "postgres" else None)
if _url:
    # Persistent connections; no per-request health check (it costs a round trip on every
    # request, and Django drops a broken connection at the end of the failing request).
    DATABASES = {"default": dj_database_url.parse(_url, conn_max_age=300)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": HOME / "phiwatch.sqlite3",
            "OPTIONS": {
                # IMMEDIATE: a writer takes the lock when its transaction starts, so two
                # gunicorn workers wait on busy_timeout instead of failing the lock upgrade
                # with "database is locked" (SQLite docs, "BEGIN TRANSACTION").
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth (Django's built-in User; groups it_admin, compliance_officer, auditor) --------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"

# --- sessions and security headers (served over HTTPS only) -----------------------------
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = 31536000
X_FRAME_OPTIONS = "DENY"
# The TLS terminator is gunicorn itself, so requests are already HTTPS.
SECURE_PROXY_SSL_HEADER = None

# --- request size: agent bodies are at most 1 MiB (docs/protocol.md) --------------------
MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES

# --- static files: whitenoise serves them from the gunicorn workers ---------------------
STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
WHITENOISE_USE_FINDERS = True  # no collectstatic step needed for the embedded server

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# Logs never carry request bodies (PHI-derived paths live there); errors go to stderr.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "server.logfilter.RedactExceptions"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}
