"""HiveOps settings. Everything comes from the environment, with local defaults that just work.

Production deployments use hive_ops.settings_production, which requires SECRET_KEY and turns
on the secure-cookie, HSTS and SSL settings.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from core.base_url import default_base_url
from hive_ops.env import ImproperEnv, database_from_url, env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
RUN_DIR = Path(env_str("HIVEOPS_RUN_DIR", str(BASE_DIR / ".run")))

# Off unless asked for: a debug 500 page shows settings such as DATABASE_URL to anyone. Development
# turns it on (DEBUG=true).
DEBUG = env_bool("DEBUG", False)


def _development_secret_key() -> str:
    """A random key kept in .run/ so sessions survive restarts of a development server."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    path = RUN_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", "") or _development_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PORT = env_int("PORT", 8000)

INSTALLED_APPS = [
    "daphne",
    "core.admin_apps.HiveOpsAdminConfig",  # django.contrib.admin with the HiveOps site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "core",
    "core.teams",
    "core.audit",
    "catalog",
    "metrics",
    "forecasting",
    "alerts",
    "paging",
    "slo",
    "capacity",
    "bi",
    "insight",
    "recommendations",
]

MIDDLEWARE = [
    # Over-limit bodies of the intake endpoints are refused before anything else (core/bodylimit.py).
    "core.bodylimit.BodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.login_throttle.LoginThrottleMiddleware",
    "core.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.usertime.UserTimezoneMiddleware",  # pages show times in the profile's time zone
    "core.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.unavailable.DatabaseUnavailableMiddleware",  # last: sees the views' exceptions first
]

ROOT_URLCONF = "hive_ops.urls"
ASGI_APPLICATION = "hive_ops.asgi.application"
WSGI_APPLICATION = "hive_ops.wsgi.application"

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
            # percent, duration, money, when, ago, words, number on every page (core/fmt.py)
            "builtins": ["core.fmt"],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "postgres://hiveops:hiveops@127.0.0.1:5432/hiveops")
DATABASES = {"default": database_from_url(DATABASE_URL)}
# Web processes borrow connections from a bounded pool (psycopg-pool) for the length of a request:
# under ASGI every request thread would otherwise keep a connection of its own. A request that
# waits longer than DB_POOL_TIMEOUT_S for one gets 503 with Retry-After (core/unavailable.py).
# Celery processes turn the pool off and keep one reused connection each (hive_ops/celery.py).
# Connection budget: docs/deployment.md, "Database connections".
DB_POOL_MIN_SIZE = env_int("DB_POOL_MIN_SIZE", 2)
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 10)  # 0 turns the pool off
DB_POOL_TIMEOUT_S = env_int("DB_POOL_TIMEOUT_S", 5)
if DB_POOL_MAX_SIZE > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(DB_POOL_MIN_SIZE, DB_POOL_MAX_SIZE),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT_S,
        "max_idle": 300,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django refuses persistent connections with a pool
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "test_hiveops")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Every Redis key and pub/sub channel of this installation starts with "<HIVEOPS_INSTALLATION>:".
# Pub/sub channels are global to a Redis server (the database number in REDIS_URL does not separate
# them), so two installations sharing a Redis server need different names. Default: the database
# name, which already tells installations apart (docs/deployment.md, "Sharing a Redis server").
HIVEOPS_INSTALLATION = env_str("HIVEOPS_INSTALLATION", "") or DATABASES["default"]["NAME"]
if not HIVEOPS_INSTALLATION.replace("-", "").replace("_", "").replace(".", "").isalnum():
    raise ImproperEnv(f"HIVEOPS_INSTALLATION={HIVEOPS_INSTALLATION!r}: use letters, digits, '-', '_' and '.'")
# A Redis that stops answering (hung host, network partition) must not hold up requests: every
# client on the request path gives up after this long (docs/deployment.md, "Fault tolerance").
REDIS_SOCKET_TIMEOUT_S = 2

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": HIVEOPS_INSTALLATION,
        "OPTIONS": {"socket_timeout": REDIS_SOCKET_TIMEOUT_S, "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{HIVEOPS_INSTALLATION}:ws"},
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Login throttling (core/login_throttle.py): after this many failed logins of an account, or
# from an address, further attempts are refused (429) without checking the password until
# HIVEOPS_LOGIN_LOCK_S seconds after the latest failure. 0 turns a counter off.
AUTHENTICATION_BACKENDS = [
    "core.login_throttle.ThrottledLogin",
    "django.contrib.auth.backends.ModelBackend",
]
HIVEOPS_LOGIN_MAX_FAILURES_PER_ACCOUNT = env_int("HIVEOPS_LOGIN_MAX_FAILURES_PER_ACCOUNT", 10)
HIVEOPS_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("HIVEOPS_LOGIN_MAX_FAILURES_PER_ADDRESS", 30)
HIVEOPS_LOGIN_LOCK_S = env_int("HIVEOPS_LOGIN_LOCK_S", 15 * 60)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(RUN_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Requests up to the ingest limit (10 MB) are read; the ingest views answer 413 beyond it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024 + 1

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.teams.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # JSON bodies nested deeper than this, or holding a lone surrogate, are a 400 (core/jsonbody.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.jsonbody.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["core.ratelimit.ApiRateThrottle"],
}
# Requests per minute, per caller (token or user) and per team (core/ratelimit.py). 0 disables.
HIVEOPS_RATE_LIMITS = {
    "ingest": {
        "caller": env_int("HIVEOPS_RATE_INGEST_PER_TOKEN", 1200),
        "team": env_int("HIVEOPS_RATE_INGEST_PER_TEAM", 6000),
    },
    "api": {
        "caller": env_int("HIVEOPS_RATE_API_PER_CALLER", 3000),
        "team": env_int("HIVEOPS_RATE_API_PER_TEAM", 12000),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HiveOps API",
    "DESCRIPTION": "Metric ingestion, queries, alerts and incidents, grouped by area below; each area "
    "links to the page that shows the same data. Authenticate with `Authorization: Bearer <token>` "
    "(create one with `manage.py create_api_token --team demo`). [← Back to HiveOps](/)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AlertStatusEnum": "alerts.models.alerts.Alert.Status",
        "IncidentStatusEnum": "alerts.models.incidents.Incident.Status",
        "SeverityEnum": "alerts.models.alerts.Severity",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_ingest_paths",
        "core.schema.document_error_responses",
        "core.schema_tags.tag_by_area",  # one heading per product area, not one "v1"
    ],
}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
    # Queues and Celery's pub/sub channels: "<installation>:celery", ... (see HIVEOPS_INSTALLATION).
    "global_keyprefix": f"{HIVEOPS_INSTALLATION}:",
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Enqueueing from a request must fail fast when Redis is down (the periodic tasks catch up).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
# Celery's Django fixup closes the database connection around every task unless this is set: a new
# PostgreSQL session per task (measured: burst p95 10.6 s -> 1.4 s with reuse). See hive_ops/celery.py.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 1000)
# Celery workers and beat use no pool (hive_ops/celery.py): one connection per process, kept this long.
CELERY_DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 300)
# Celery workers lower their CPU priority by this much (nice) when they start: on a shared machine
# the web processes (sample acceptance, acknowledgements) come first and detection lags, bounded
# and visible in /metrics (docs/deployment.md, "Worker priority"). 0 keeps the inherited priority.
CELERY_WORKER_NICE = env_int("HIVEOPS_WORKER_NICE", 10)
CELERY_BEAT_SCHEDULE_FILENAME = str(RUN_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "metrics-refresh-rollups": {"task": "metrics.tasks.refresh_rollups", "schedule": 30.0},
    "metrics-maintain-storage": {"task": "metrics.tasks.maintain_storage", "schedule": 3600.0},
    "alerts-evaluate-rules": {"task": "alerts.tasks.evaluate_all_rules", "schedule": 30.0},
    "alerts-housekeeping": {"task": "alerts.tasks.alert_housekeeping", "schedule": 60.0},
    "alerts-audit-escalations": {"task": "paging.tasks.audit_escalations", "schedule": 30.0},
    "alerts-send-digests": {"task": "paging.tasks.send_digests", "schedule": 60.0},
    "alerts-notify-handoffs": {"task": "paging.tasks.notify_handoffs", "schedule": 300.0},
    "forecasting-detect-sweep": {"task": "forecasting.tasks.detect_sweep", "schedule": 30.0},
    "forecasting-train-detectors": {"task": "forecasting.tasks.train_detectors", "schedule": 900.0},
    "forecasting-refresh-forecasts": {"task": "forecasting.tasks.refresh_forecasts", "schedule": 60.0},
    "forecasting-prune": {"task": "forecasting.tasks.prune", "schedule": 3600.0},
    "slo-evaluate": {"task": "slo.tasks.evaluate_slos", "schedule": 30.0},
    "slo-recheck": {"task": "slo.tasks.recheck_slos", "schedule": 3600.0},
    "slo-send-sla-reports": {"task": "slo.tasks.send_sla_reports", "schedule": 3600.0},
    "capacity-analyse-fleet": {"task": "capacity.tasks.analyse_fleet", "schedule": 3600.0},
    "capacity-send-digests": {"task": "capacity.tasks.send_digests", "schedule": 3600.0},
    "bi-send-executive-reports": {"task": "bi.tasks.send_executive_reports", "schedule": 3600.0},
    "observability-heartbeat": {"task": "core.observability.tasks.heartbeat", "schedule": 30.0},
}
# Task modules outside an app's tasks.py (autodiscovery only finds <app>.tasks).
CELERY_IMPORTS = ["slo.tasks", "core.observability.tasks"]
# SLOs: minutes newer than the settle delay are not evaluated yet (their rollups may be incomplete);
# a new SLO's per-minute SLI is backfilled this far (previous calendar month included).
HIVEOPS_SLO_SETTLE_SECONDS = env_int("HIVEOPS_SLO_SETTLE_SECONDS", 60)
HIVEOPS_SLO_BACKFILL_DAYS = env_int("HIVEOPS_SLO_BACKFILL_DAYS", 62)

# Metric storage. The layout is chosen once, by migration metrics.0002: "auto" (TimescaleDB when
# the server has it preloaded and creatable, else plain), "plain" (force), "timescaledb" (require).
HIVEOPS_STORAGE_LAYOUT = env_str("HIVEOPS_STORAGE_LAYOUT", "auto")
HIVEOPS_RETENTION_RAW_DAYS = env_int("HIVEOPS_RETENTION_RAW_DAYS", 30)
HIVEOPS_RETENTION_ROLLUP_DAYS = env_int("HIVEOPS_RETENTION_ROLLUP_DAYS", 400)
HIVEOPS_INGEST_MAX_POINTS = env_int("HIVEOPS_INGEST_MAX_POINTS", 50_000)
HIVEOPS_INGEST_MAX_BYTES = env_int("HIVEOPS_INGEST_MAX_BYTES", 10 * 1024 * 1024)
# Body limit of the alert intake endpoints (/api/v1/integrations/...): Alertmanager, webhook, PagerDuty.
HIVEOPS_INTAKE_MAX_BYTES = env_int("HIVEOPS_INTAKE_MAX_BYTES", 1024 * 1024)
HIVEOPS_SERIES_CACHE_SIZE = env_int("HIVEOPS_SERIES_CACHE_SIZE", 250_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"cmdstanpy": {"level": "WARNING"}},
}

# Alerting.
HIVEOPS_FLAP_TRANSITIONS = env_int("HIVEOPS_FLAP_TRANSITIONS", 6)
HIVEOPS_FLAP_WINDOW_MINUTES = env_int("HIVEOPS_FLAP_WINDOW_MINUTES", 30)
HIVEOPS_PAGERDUTY_EVENTS_PER_MINUTE = env_int("HIVEOPS_PAGERDUTY_EVENTS_PER_MINUTE", 120)
# The address people reach the web process at: every link in a notification starts with it. By
# default built from HIVEOPS_HOST/HIVEOPS_PORT (what the Procfile binds daphne to); PORT is only the
# fallback, since honcho gives each Procfile process its own PORT. See core/base_url.py.
HIVEOPS_BASE_URL = env_str(
    "HIVEOPS_BASE_URL",
    default_base_url(host=env_str("HIVEOPS_HOST", "127.0.0.1"), port=env_int("HIVEOPS_PORT", PORT)),
).rstrip("/")
# Workers and beat GET <base URL>/healthz this long after they start and warn if it does not answer.
HIVEOPS_BASE_URL_CHECK_DELAY_S = env_int("HIVEOPS_BASE_URL_CHECK_DELAY_S", 10)
HIVEOPS_ACK_LINK_MAX_AGE = env_int("HIVEOPS_ACK_LINK_MAX_AGE", 24 * 3600)
HIVEOPS_STORM_LIMIT_PER_MINUTE = env_int("HIVEOPS_STORM_LIMIT_PER_MINUTE", 10)
HIVEOPS_DELIVERY_MAX_ATTEMPTS = env_int("HIVEOPS_DELIVERY_MAX_ATTEMPTS", 5)
# The escalation auditor treats work overdue by this long as lost (worker died, Redis restarted).
HIVEOPS_STUCK_AFTER_SECONDS = env_int("HIVEOPS_STUCK_AFTER_SECONDS", 120)

# Content-Security-Policy of every response (core/security.py); "off" turns it off.
HIVEOPS_CSP = env_str(
    "HIVEOPS_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
)

# Audit log: behind a reverse proxy, take the client address from X-Forwarded-For.
HIVEOPS_TRUST_X_FORWARDED_FOR = env_bool("HIVEOPS_TRUST_X_FORWARDED_FOR", False)

# Forecasting and anomaly detection.
HIVEOPS_SCORE_RETENTION_DAYS = env_int("HIVEOPS_SCORE_RETENTION_DAYS", 30)
HIVEOPS_FORECAST_REFRESH_MINUTES = env_int("HIVEOPS_FORECAST_REFRESH_MINUTES", 15)
HIVEOPS_FORECAST_SELECT_HOURS = env_int("HIVEOPS_FORECAST_SELECT_HOURS", 24)
HIVEOPS_FORECAST_BATCH = env_int("HIVEOPS_FORECAST_BATCH", 50)
HIVEOPS_FORECAST_MAX_QUEUED = env_int("HIVEOPS_FORECAST_MAX_QUEUED", 1000)
HIVEOPS_TRAIN_BATCH = env_int("HIVEOPS_TRAIN_BATCH", 100)
# Detectors each worker keeps in memory (about 12 KB of state each; forecasting/services/detector_cache.py).
HIVEOPS_DETECTOR_CACHE_SIZE = env_int("HIVEOPS_DETECTOR_CACHE_SIZE", 20_000)

# Live WebSocket: per-team event log kept in Redis for clients that reconnect (core/live_log.py).
HIVEOPS_LIVE_LOG_SIZE = env_int("HIVEOPS_LIVE_LOG_SIZE", 1000)
HIVEOPS_LIVE_LOG_TTL_S = env_int("HIVEOPS_LIVE_LOG_TTL_S", 3600)
# Every live socket's login and teams are re-read this often (besides logout/membership signals).
HIVEOPS_LIVE_RECHECK_S = env_int("HIVEOPS_LIVE_RECHECK_S", 60)
# Its fan-out: Redis pub/sub, one PUBLISH per event pushed to every server process (core/live_hub.py).
CHANNEL_LAYERS["live"] = {
    "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "CONFIG": {
        "hosts": [
            {
                "address": REDIS_URL,
                "socket_timeout": REDIS_SOCKET_TIMEOUT_S,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT_S,
            }
        ],
        "prefix": f"{HIVEOPS_INSTALLATION}:live:ws:",
    },
}

# Email (notifications).
EMAIL_HOST = env_str("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "HiveOps <hiveops@localhost>")

# Executive dashboard (bi): the currency of services' revenue_per_minute, and addresses that get
# every team's weekly executive report (besides each team's managers and admins).
HIVEOPS_BI_CURRENCY = env_str("HIVEOPS_BI_CURRENCY", "EUR")
HIVEOPS_EXECUTIVE_REPORT_EMAILS = env_list("HIVEOPS_EXECUTIVE_REPORT_EMAILS", [])

# Capacity planning: hourly history read per resource (the fit uses at most the last 35 days, so
# more is never read), processes sharing the hourly fleet analysis, and when the weekly digest
# goes out (weekday 0 = Monday, hour in UTC).
HIVEOPS_CAPACITY_HISTORY_DAYS = env_int("HIVEOPS_CAPACITY_HISTORY_DAYS", 35)
HIVEOPS_CAPACITY_PROCESSES = env_int("HIVEOPS_CAPACITY_PROCESSES", 2)
# The hourly run is split in chunk tasks of this many resources (about 3 s of maths each), queued
# HIVEOPS_CAPACITY_PROCESSES at a time (docs/capacity.md, "The hourly run").
HIVEOPS_CAPACITY_RUN_CHUNK = env_int("HIVEOPS_CAPACITY_RUN_CHUNK", 250)
HIVEOPS_CAPACITY_DIGEST_WEEKDAY = env_int("HIVEOPS_CAPACITY_DIGEST_WEEKDAY", 0)
HIVEOPS_CAPACITY_DIGEST_HOUR = env_int("HIVEOPS_CAPACITY_DIGEST_HOUR", 8)

# Self-observability (docs/deployment.md, "Health, readiness and metrics"): heartbeats older than
# this make /readyz answer 503; who may read /metrics; caps of one series export.
HIVEOPS_HEARTBEAT_MAX_AGE_S = env_int("HIVEOPS_HEARTBEAT_MAX_AGE_S", 90)
HIVEOPS_METRICS_TOKEN = env_str("HIVEOPS_METRICS_TOKEN", "") or None
HIVEOPS_METRICS_ALLOW = env_list("HIVEOPS_METRICS_ALLOW", [])
HIVEOPS_EXPORT_MAX_SERIES = env_int("HIVEOPS_EXPORT_MAX_SERIES", 1000)
HIVEOPS_EXPORT_MAX_DAYS = env_int("HIVEOPS_EXPORT_MAX_DAYS", 31)

# Local mail sink (mailsink/): `make run` starts an SMTP server that keeps what it receives, points
# EMAIL_HOST/EMAIL_PORT at it and turns this on, which adds the "Mail" page to the top bar.
INSTALLED_APPS.append("mailsink")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("mailsink.context_processors.mailsink")
HIVEOPS_MAILSINK = env_bool("HIVEOPS_MAILSINK", False)
HIVEOPS_MAILSINK_KEEP = env_int("HIVEOPS_MAILSINK_KEEP", 500)

# Alert intake and silences (docs/alerting.md): alerts per Alertmanager payload (more: 413; set
# `max_alerts` in Alertmanager's webhook config), the longest a silence may last, in days.
HIVEOPS_ALERTMANAGER_MAX_ALERTS = env_int("HIVEOPS_ALERTMANAGER_MAX_ALERTS", 500)
HIVEOPS_SILENCE_MAX_DAYS = env_int("HIVEOPS_SILENCE_MAX_DAYS", 90)
