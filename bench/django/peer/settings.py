"""Settings of the Django peer: the original sign-up's stack (Django, DRF,
django-redis) with only what its four routes use. Everything that differs
per run comes from the environment that bench/django/run.py sets."""

import os
from pathlib import Path

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
]

# No session, CSRF or message middleware: the API is anonymous and answers
# with tokens, so those would only cost the peer time it need not spend.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "peer.urls"
WSGI_APPLICATION = "peer.wsgi.application"

# SQLite in the run's scratch directory (the original used MySQL). WAL and
# IMMEDIATE transactions, as Django's docs advise, so that the two workers'
# inserts wait for each other instead of failing with "database is locked".
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": Path(os.environ["DJANGO_SCRATCH"]) / "db.sqlite3",
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

# argon2id with the parameters of shared/src/auth/passwords.rs, so that
# both sides pay the same hash; PBKDF2 only to read older hashes.
PASSWORD_HASHERS = [
    "users.hashers.OwaspArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    # Anonymous routes: no session or basic authentication to run per request.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
}

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# Nothing per request: Django logs every 4xx as a warning on django.request,
# and refusals (409, 429) are part of the load. Errors still reach stderr,
# which run.py's caller keeps in a log file.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
}

SMS_OUTBOX_FILE = os.environ["SMS_OUTBOX_FILE"]
SMS_CODE_TTL_SECONDS = 300
SMS_RESEND_INTERVAL_SECONDS = 60
JWT_SECRET = os.environ["JWT_SECRET"]
JWT_TTL_SECONDS = 86_400
