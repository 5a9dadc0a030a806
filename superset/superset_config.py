"""Superset configuration of Một cửa Analytics (read through SUPERSET_CONFIG_PATH).

Everything secret or machine-specific comes from the environment, set by
``python -m motcua bi`` (``make bi``), the tests or docker compose:

* ``SUPERSET_SECRET_KEY``: signs sessions and encrypts stored connection
  passwords; required (``make bi`` generates one under ``.local/superset/``).
* ``SUPERSET_METADATA_URL``: Superset's own metadata database; SQLite under
  ``.local/superset/`` for local use and tests, PostgreSQL in compose.

Why the rest: no telemetry and nothing loaded from outside the machine. The
PyPI build of the frontend renders a Scarf tracking pixel whatever
``SCARF_ANALYTICS`` says at run time (it is a build-time switch), and the
default content security policy allows Scarf, Mapbox, map tiles and font
CDNs; the policy below allows this server only, so the browser refuses every
external load.
"""

from __future__ import annotations

import os
from datetime import timedelta

SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
SQLALCHEMY_DATABASE_URI = os.environ["SUPERSET_METADATA_URL"]
SQLALCHEMY_TRACK_MODIFICATIONS = False


def _bi_password(url: object) -> str:
    """The BI login's password, from the environment at every connection.

    The imported database connection carries no password (not in the bundle,
    not in Superset's metadata): ``make bi``, the tests and compose give it as
    ``BI_WAREHOUSE_PASSWORD``.
    """
    return os.environ.get("BI_WAREHOUSE_PASSWORD", "")


SQLALCHEMY_CUSTOM_PASSWORD_STORE = _bi_password

# ---------------------------------------------------------------- no telemetry, offline UI
MAPBOX_API_KEY = ""
SLACK_API_TOKEN = None
SLACK_ENABLE_AVATARS = False
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
_SELF_ONLY = ["'self'"]
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": _SELF_ONLY,
        "default-src": _SELF_ONLY,
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": _SELF_ONLY,
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
TALISMAN_DEV_CONFIG = TALISMAN_CONFIG
CONTENT_SECURITY_POLICY_WARNING = False

# ---------------------------------------------------------------- behaviour
FEATURE_FLAGS = {
    # every chart of a dashboard queries at once (the browser test sees them all)
    "DASHBOARD_VIRTUALIZATION": False,
    "DASHBOARD_RBAC": False,
    "ALERT_REPORTS": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
}
# No result cache: a commune user never gets a cached result of another role.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# Only the warehouse connection that the assets define, never SQLite files.
PREVENT_UNSAFE_DB_CONNECTIONS = True
SUPERSET_WEBSERVER_TIMEOUT = int(timedelta(minutes=2).total_seconds())
APP_NAME = "Một cửa Analytics"
BABEL_DEFAULT_LOCALE = "vi"
LANGUAGES = {}
LOG_LEVEL = os.environ.get("SUPERSET_LOG_LEVEL", "WARNING")
