"""Settings shared by every shape of Duban.

Production is this module plus the environment: nothing secret or machine-specific is
written here. With no environment at all the embedded default applies (SQLite in the
project folder, Celery tasks run in-process, e-mail written as .eml files), which is what
the demo and a newcomer's first run use.
"""

import datetime
import json
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("DUBAN_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The demo's secret is public; production must set DJANGO_SECRET_KEY.
DEMO_SECRET_KEY = "duban-demo-secret-key-not-for-production-use-0123456789"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

# Production is served over HTTPS only. Each setting can be turned off from the environment
# (an office that terminates TLS elsewhere, say); local.py and test.py turn them off for
# plain-http 127.0.0.1 and the test client.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Behind a reverse proxy that terminates TLS, the header it sets (e.g. HTTP_X_FORWARDED_PROTO)
# tells Django the request was https. Only set it when the proxy overwrites that header.
if os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["DJANGO_SECURE_PROXY_SSL_HEADER"], "https")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "axes",
    "django_filters",
    "drf_spectacular",
    "django_celery_beat",
    "django_htmx",
    # Swagger UI and ReDoc from the app's own static files: the docs work offline.
    "drf_spectacular_sidecar",
    "core",
    "responsibility",
    "outbox",
    "tasks",
    "notifications",
    "bulletins",
    "imports",
    "pages",
    "demo",
]

MIDDLEWARE = [
    # First, so that whatever fails below it under /api/ is still answered as JSON.
    "core.middleware.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the pages' CSS, the vendored htmx, the API docs) straight from the app
    # server: no CDN, no separate web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "responsibility.middleware.AccessScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a sign-in refused for too many failures into its own answer (see AXES_ below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        # A persistent connection may have been cut by a database restart since its last
        # request: it is checked before reuse and replaced, rather than failing a request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer fails the request in seconds (a 503) instead of
    # holding the worker past the WSGI server's timeout; psycopg waits 130 s by default.
    # A connect_timeout in DATABASE_URL's query string wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
    )
else:
    # The task scope's covering index (INCLUDE) is PostgreSQL's, where lists read it alone;
    # the embedded SQLite builds it on the key columns only, which costs it only speed.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "responsibility.User"

# The lock-out check runs before the password is even looked at.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# How many reverse proxies in front of Duban append to X-Forwarded-For. 0 (the default)
# uses the connection's address and ignores the header, which any client can write.
TRUSTED_PROXIES = int(os.environ.get("DUBAN_TRUSTED_PROXIES", "0"))

# Failed sign-ins (token endpoint, admin login) are counted per address and per username
# by django-axes; at the limit both are refused, even with the right password, for the
# lock-out time. A success clears the failures it matches.
AXES_FAILURE_LIMIT = int(os.environ.get("DUBAN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("DUBAN_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
# Django's last_login records successes; axes' own log of them would open a session for
# every API sign-in.
AXES_DISABLE_ACCESS_LOG = True
# Tries during a lock-out do not extend it, so "try again in N minutes" stays true.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# One rule for the caller's address, shared with DRF's throttles (NUM_PROXIES below), rather
# than django-ipware's, so the throttle and the lock-out can never count different clients.
AXES_CLIENT_IP_CALLABLE = "responsibility.lockout.client_address"
# The sign-in page shows the lock-out as a page of its own; the API keeps its JSON.
AXES_LOCKOUT_CALLABLE = "pages.views.auth.lockout_response"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# Compressed, without a manifest: the vendored files carry their version in their names,
# and the pages' own stylesheet is small enough to revalidate.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Production runs `collectstatic` at deploy and whitenoise serves STATIC_ROOT; the demo and
# the tests serve the apps' static folders themselves (local.py, test.py).
WHITENOISE_USE_FINDERS = False

# The people's pages (pages/): a page opened while signed out goes through sign-in.
LOGIN_URL = "pages:login"
LOGIN_REDIRECT_URL = "pages:workbench"
LOGOUT_REDIRECT_URL = "pages:login"
# Evidence files are never served as public media: only through the API, to users who
# may see the task (see tasks.apis.AttachmentDownloadApi).
MEDIA_ROOT = VAR_DIR / "media"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "responsibility.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    # JSON, refusing control and bidi characters and deep nesting (core/parsers.py). The
    # views that take files (reports with evidence, the import) and the sign-in (a form
    # from curl) name the checking form parsers too: a form reads an empty field as "not
    # given", which a JSON body never leaves in doubt.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"auth": os.environ.get("DUBAN_AUTH_THROTTLE", "20/min")},
    "NUM_PROXIES": TRUSTED_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Duban 督办 API",
    "DESCRIPTION": "Campaign deadlines and accountability: tasks, progress, extensions.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Docstrings are written for the project's developers; what an operation does for its
    # caller is each view's extend_schema(description=...), and tests/test_schema.py fails on
    # an operation without one.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.postprocess_path_ids",
        "core.schema.postprocess_paginated_lists",
        "core.schema.postprocess_empty_filters",
        "core.schema.postprocess_text_characters",
    ],
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "responsibility.models.UnitKind",
        "TaskKindEnum": "tasks.models.TaskKind",
        "EscalationLevelEnum": "notifications.models.Level",
        "BulletinKindEnum": "bulletins.models.BulletinKind",
        "AutomaticLevelEnum": "notifications.models.AUTOMATIC_LEVEL_CHOICES",
        "ManualLevelEnum": "notifications.models.MANUAL_LEVEL_CHOICES",
        "TaskStateEnum": "tasks.models.TaskState",
        "ExtensionStateEnum": "tasks.models.ExtensionState",
        "CalendarDayKindEnum": "tasks.models.CalendarDayKind",
        "RobotKindEnum": "outbox.models.ROBOT_KIND_CHOICES",
        "ChannelEnum": "outbox.models.Channel",
        "SourceKindEnum": "tasks.models.SourceKind",
    },
}

CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
        }
        if os.environ.get("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
# Without a broker the embedded default runs jobs in the calling process.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A request that queues a job after committing must not hang on a broker that is down:
# give up quickly (the work is stored; beat picks it up once the broker is back).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2

if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = "core.mail.EmlFileBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "督查室 <duban@localhost>")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DUBAN_LOG_LEVEL", "INFO")},
    # Django's own console handler would print every request line a second time.
    "loggers": {
        "django": {"handlers": ["console"], "propagate": False},
        # WeasyPrint reports every layout step at INFO.
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Failures and lock-outs are warnings; axes' INFO is a line per sign-in attempt.
        "axes": {"level": "WARNING"},
    },
}

DUBAN = {
    # Working days before the due date at which a task's light turns yellow, unless the
    # campaign sets its own.
    "YELLOW_WORKING_DAYS": 3,
    "ATTACHMENT_MAX_BYTES": int(os.environ.get("DUBAN_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)),
    "ATTACHMENTS_PER_REPORT": 10,
    # Links in e-mails point here.
    "SITE_URL": os.environ.get("DUBAN_SITE_URL", "http://127.0.0.1:8000"),
    "MAIL_DOMAIN": os.environ.get("DUBAN_MAIL_DOMAIN", "duban.localhost"),
    # A worker that claimed a message and died gives it up after this long.
    "OUTBOX_LEASE_SECONDS": int(os.environ.get("DUBAN_OUTBOX_LEASE_SECONDS", "300")),
    "OUTBOX_MAX_ATTEMPTS": int(os.environ.get("DUBAN_OUTBOX_MAX_ATTEMPTS", "8")),
    # First retry after this many seconds, doubling each time.
    "OUTBOX_BACKOFF_SECONDS": int(os.environ.get("DUBAN_OUTBOX_BACKOFF_SECONDS", "60")),
    # An API token unused this long is dead: a working day, so a key left on a shared
    # office computer does not outlive the night, while a day's work never needs a new one.
    "TOKEN_IDLE_HOURS": float(os.environ.get("DUBAN_TOKEN_IDLE_HOURS", "8")),
    # A reported figure of a target to reach may be at most this many times its target.
    "FIGURE_MAX_MULTIPLE": int(os.environ.get("DUBAN_FIGURE_MAX_MULTIPLE", "10")),
    # Idempotency records (each holds a whole answer) are purged after this many days. A
    # client retries a dropped request within minutes, or when it next gets a connection;
    # a week covers a village offline over a long weekend or a holiday, and a retry after
    # that runs as a new request.
    "IDEMPOTENCY_RETENTION_DAYS": int(os.environ.get("DUBAN_IDEMPOTENCY_RETENTION_DAYS", "7")),
    # Robots' webhooks and signing secrets are encrypted with this key (Fernet, 32 bytes in
    # url-safe base64); without it, with a key derived from SECRET_KEY. Either way the key
    # is not in the database, so a copy of the database alone does not post to any group.
    "CHANNEL_SECRETS_KEY": os.environ.get("DUBAN_CHANNEL_SECRETS_KEY", ""),
    # Where robots may post: the two services' hosts, plus any given (a local fake server).
    "ROBOT_HOSTS": [
        "qyapi.weixin.qq.com",
        "oapi.dingtalk.com",
        *env_list("DUBAN_ROBOT_EXTRA_HOSTS"),
    ],
    # Seconds a robot or the SMS gateway may take to answer before the attempt counts as failed.
    "CHANNEL_TIMEOUT_SECONDS": float(os.environ.get("DUBAN_CHANNEL_TIMEOUT_SECONDS", "10")),
    # Both robots' documented limit: 20 messages a minute per robot (see outbox/senders.py).
    "ROBOT_RATE": (20, 60),
    # Local time (Asia/Shanghai) in which no SMS is sent; held until its end.
    "SMS_QUIET_HOURS": os.environ.get("DUBAN_SMS_QUIET_HOURS", "21:00-08:00"),
    # The SMS gateway (Aliyun's SendSms shape); without an endpoint SMS messages stay pending.
    "SMS_ENDPOINT": os.environ.get("DUBAN_SMS_ENDPOINT", ""),
    "SMS_ACCESS_KEY_ID": os.environ.get("DUBAN_SMS_ACCESS_KEY_ID", ""),
    "SMS_ACCESS_KEY_SECRET": os.environ.get("DUBAN_SMS_ACCESS_KEY_SECRET", ""),
    "SMS_SIGN_NAME": os.environ.get("DUBAN_SMS_SIGN_NAME", "督查室"),
    # The template the gateway approved for each rung, by level.
    "SMS_TEMPLATES": json.loads(os.environ.get("DUBAN_SMS_TEMPLATES", "{}"))
    or {
        "reminder": "SMS_DUBAN_REMINDER",
        "overdue": "SMS_DUBAN_OVERDUE",
        "listed": "SMS_DUBAN_LISTED",
        "criticism": "SMS_DUBAN_CRITICISM",
        "admonishment": "SMS_DUBAN_ADMONISHMENT",
        "accountability": "SMS_DUBAN_ACCOUNTABILITY",
    },
}
# A request body other than files (JSON, a form's fields) is refused above this size with a
# 413: the largest the API takes, a decomposition into a few hundred children, is far
# smaller. Files have their own limits: DUBAN["ATTACHMENT_MAX_BYTES"] per evidence file and
# imports.readers.MAX_FILE_BYTES per table; uploads above FILE_UPLOAD_MAX_MEMORY_SIZE are
# spooled to disk rather than held in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DUBAN_MAX_BODY_BYTES", 2 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
