"""Settings for goq-malls.

Every value that differs between machines comes from the environment through one
``env`` object; a ``.env`` file beside ``manage.py`` is read when present. Secrets
have no default: with DEBUG off, the system checks in ``malls.checks`` stop start-up
when they are missing or weak.
"""

import os
from pathlib import Path

import environ
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file() and not os.environ.get("GOQ_IGNORE_DOTENV"):
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# "kid:base64key,kid:base64key": the first key encrypts, every key decrypts.
# Independent of SECRET_KEY so that rotating one never touches the other.
CREDENTIALS_KEYS = env.str("CREDENTIALS_KEYS", default="")

MAKESHOP_API_BASE_URL = env.str("MAKESHOP_API_BASE_URL", default="https://www.makeshop.jp")
# A ceiling on all of GoQ's calls to MakeShop together, across processes and machines
# (malls.throttle), on top of the one-call-per-second spacing per shop.
MAKESHOP_MAX_CALLS_PER_SECOND = env.float("MAKESHOP_MAX_CALLS_PER_SECOND", default=10.0)

# --- Rakuten RMS (malls.rakuten) -----------------------------------------------------------
RAKUTEN_API_BASE_URL = env.str("RAKUTEN_API_BASE_URL", default="https://api.rms.rakuten.co.jp")
# GoQ's registered product's serviceSecret (connection model B). Unset: each merchant
# pastes the shop's own serviceSecret with its licenseKey (model A).
RAKUTEN_SERVICE_SECRET = env.str("RAKUTEN_SERVICE_SECRET", default="")
# A ceiling on all of GoQ's calls to RMS together, on top of one call per second per shop.
RAKUTEN_MAX_CALLS_PER_SECOND = env.float("RAKUTEN_MAX_CALLS_PER_SECOND", default=10.0)

# --- MakeShop's new API (app install, GraphQL, webhooks) -------------------------------
# All four unset: the new-API path is off (webhook URLs answer 404). See
# malls/makeshop/app/config.py for what each one is and malls/makeshop/app/checks.py
# for what start-up demands once any of them is set.
MAKESHOP_APP_GRAPHQL_URL = env.str("MAKESHOP_APP_GRAPHQL_URL", default="")
MAKESHOP_APP_ID = env.str("MAKESHOP_APP_ID", default="")
MAKESHOP_APP_API_KEY = env.str("MAKESHOP_APP_API_KEY", default="")
MAKESHOP_APP_WEBHOOK_SECRET = env.str("MAKESHOP_APP_WEBHOOK_SECRET", default="")
MAKESHOP_APP_API_SECRET = env.str("MAKESHOP_APP_API_SECRET", default="")
# --- end of MakeShop's new API -----------------------------------------------------------

INSTALLED_APPS = [
    "goq",  # before axes: its sign-in commands and admin labels take precedence
    "malls",
    # The malls GoQ connects: each a package and an app, found by malls.providers.
    "malls.makeshop",
    "malls.rakuten",
    # The admin and django-tasks-db, as GoQ staff see them (malls/admin_site.py).
    "malls.admin_site.GoQAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "malls.admin_site.BackgroundJobsConfig",  # django_tasks_db
    "goq.apps.SigninLimitsConfig",  # django-axes
]

MIDDLEWARE = [
    "goq.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Inside every header-setting middleware, before anything reads the query or body.
    "goq.middleware.UnreadableCharsetMiddleware",
    "goq.middleware.RequestBodyLimitMiddleware",
    "goq.signin.KnownBrowserMiddleware",
    # Last, so that every other middleware (security headers included) wraps its answer.
    "axes.middleware.AxesMiddleware",
]

# The sign-in limits (django-axes) run before the password check on every door that
# calls authenticate(): the merchant and staff sign-in pages and the password-change
# forms. Axes only watches; ModelBackend signs in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Background jobs (re-verification) go through Django's tasks framework; the database
# backend is worked by `manage.py db_worker`. TASKS_BACKEND swaps in another backend.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

ROOT_URLCONF = "goq.urls"
WSGI_APPLICATION = "goq.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Reuse connections (a new PostgreSQL connection per request halves throughput), and
# check a reused one is alive. DATABASE_URL's ?conn_max_age=N overrides.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets readers run beside the one writer, and NORMAL syncs at checkpoints rather
    # than on every commit; the call slots and the worker commit often.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Proxies whose X-Forwarded-For is believed (addresses or networks). Empty: the header
# is ignored, so no client can choose the address its limits are counted against.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# Sign-in limits: this many failed sign-ins lock further tries for this many seconds,
# counted from the last failure. See goq.signin for what is counted (per account and per
# client address; per browser, and per account up to a higher ceiling, on a browser the
# account signed in on before).
SIGNIN_MAX_FAILURES = env.int("SIGNIN_MAX_FAILURES", default=5)
SIGNIN_LOCKOUT_SECONDS = env.int("SIGNIN_LOCKOUT_SECONDS", default=900)
# All of an account's known browsers together (each is also held to SIGNIN_MAX_FAILURES).
SIGNIN_KNOWN_BROWSER_MAX_FAILURES = env.int(
    "SIGNIN_KNOWN_BROWSER_MAX_FAILURES", default=4 * SIGNIN_MAX_FAILURES
)
AXES_HANDLER = "goq.signin.SigninAttemptsHandler"
AXES_FAILURE_LIMIT = "goq.signin.failure_limit"  # SIGNIN_MAX_FAILURES
AXES_COOLOFF_TIME = "goq.signin.cool_off"  # SIGNIN_LOCKOUT_SECONDS
AXES_LOCKOUT_PARAMETERS = "goq.signin.lockout_parameters"
AXES_USERNAME_CALLABLE = "goq.signin.normalised_username"
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_address_group"
AXES_LOCKOUT_CALLABLE = "goq.signin.lockout_response"
# Tries while locked out neither count nor extend the lock, so the wait the page states
# is the real one; a success clears the failures it was counted under.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on every command
# Form values axes keeps in its attempt records: none of these is written.
AXES_SENSITIVE_PARAMETERS = [
    "username", "ip_address", "password", "old_password", "new_password1", "new_password2",
    "csrfmiddlewaretoken",
]
# Request bodies: anything larger is refused with 413 before it is read
# (goq.middleware.RequestBodyLimitMiddleware); the app takes no uploads. Form data and
# file parts are kept in memory up to the same size, so nothing goes to a temporary file.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = FILE_UPLOAD_MAX_MEMORY_SIZE = REQUEST_BODY_MAX_BYTES
# Password reset requests per hour: per client address, per e-mail address asked for,
# and for everyone together (goq.password_reset). Over any, nothing is sent, and the
# answer is the same.
PASSWORD_RESET_MAX_PER_ADDRESS = env.int("PASSWORD_RESET_MAX_PER_ADDRESS", default=5)
PASSWORD_RESET_MAX_PER_EMAIL = env.int("PASSWORD_RESET_MAX_PER_EMAIL", default=3)
PASSWORD_RESET_MAX_PER_HOUR = env.int("PASSWORD_RESET_MAX_PER_HOUR", default=100)
# Verification attempts (each costs MakeShop calls) per store per minute.
VERIFICATIONS_PER_STORE_PER_MINUTE = env.int("VERIFICATIONS_PER_STORE_PER_MINUTE", default=5)
# MakeShop refusals of one shop ID, across all stores, before GoQ stops asking for the hour.
MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR = env.int(
    "MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR", default=5
)

# --- HTTP security -------------------------------------------------------------------
# Content-Security-Policy: only our own files; inline <script>/<style> need the
# per-request nonce (templates use {% csp_nonce_attr %}); no plugins, no framing.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS-only outside development. The app sits behind a TLS proxy: believe its
# X-Forwarded-Proto only when a trusted proxy is configured.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
# "__Host-" cookies are accepted by browsers only over HTTPS, for this exact host,
# with path "/": a sibling subdomain cannot plant or read them.
SESSION_COOKIE_NAME = "sessionid" if DEBUG else "__Host-sessionid"
CSRF_COOKIE_NAME = "csrftoken" if DEBUG else "__Host-csrftoken"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12  # a working day
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# With DEBUG on (make run), Django's error page would show POST values and local
# variables in full; this filter hides passwords and auth codes there too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "goq.errors.SecretsHiddenReporterFilter"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "malls:settings"
LOGOUT_REDIRECT_URL = "login"

# One JSON object per line on stderr, with the request id; LOG_FORMAT=text for a terminal.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request": {"()": "goq.logging.RequestContextFilter"},
        "notification_requests": {"()": "goq.logging.NotificationRequestFilter"},
    },
    "formatters": {
        "json": {"()": "goq.logging.JsonFormatter"},
        "text": {
            "()": "goq.logging.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request"],
            "formatter": env.str("LOG_FORMAT", default="json"),
        }
    },
    "loggers": {
        # Django's request lines carry the path, a notification URL's token included.
        "django.request": {"filters": ["notification_requests"]},
        # runserver's access log: through our handler (redacted), not Django's own.
        "django.server": {
            "handlers": ["console"],
            "filters": ["notification_requests"],
            "level": "INFO",
            "propagate": False,
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- E-mail alerts (malls.alerts) ------------------------------------------------------
# EMAIL_URL in django-environ's form: smtp://user:password@host:25, smtp+tls://...:587
# (STARTTLS), smtp+ssl://...:465. Without it, development (DEBUG) prints every e-mail
# on the console of the process that sends it (`make run`: the db_worker's output).
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
if _email["EMAIL_BACKEND"].endswith(".smtp.EmailBackend"):
    _email_options = {
        "host": _email["EMAIL_HOST"], "port": _email["EMAIL_PORT"],
        "username": _email["EMAIL_HOST_USER"], "password": _email["EMAIL_HOST_PASSWORD"],
        "use_tls": bool(_email.get("EMAIL_USE_TLS")), "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": env.int("EMAIL_TIMEOUT", default=30),
    }
elif _email["EMAIL_BACKEND"].endswith(".filebased.EmailBackend"):
    _email_options = {"file_path": _email["EMAIL_FILE_PATH"] or str(BASE_DIR / "sent-mail")}
else:
    _email_options = {}
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend":
    _email["EMAIL_BACKEND"] = "malls.alerts.console.EmailBackend"  # decoded, readable
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _email_options}}
del _email, _email_options
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="GoQSystem <noreply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ALERTS_FROM_EMAIL = env.str("ALERTS_FROM_EMAIL", default=DEFAULT_FROM_EMAIL)
# Where links in e-mails point: the address merchants open the app at.
GOQ_BASE_URL = env.str("GOQ_BASE_URL", default="http://127.0.0.1:8000")
# A "broken" or "fixed" e-mail waits this long, so a blip shorter than it sends nothing.
ALERTS_SETTLE_SECONDS = env.int("ALERTS_SETTLE_SECONDS", default=300)
# Reminders while a shop stays broken: the first after this many days, at most this many.
ALERTS_REMIND_AFTER_DAYS = env.int("ALERTS_REMIND_AFTER_DAYS", default=3)
ALERTS_MAX_REMINDERS = env.int("ALERTS_MAX_REMINDERS", default=2)
# Attempts per e-mail before it is marked failed (back-off 1, 2, 4 ... min, at most 6 h).
ALERTS_MAX_ATTEMPTS = env.int("ALERTS_MAX_ATTEMPTS", default=10)
# --- end of e-mail alerts -----------------------------------------------------------------
