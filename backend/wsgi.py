import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.base")

application = get_wsgi_application()

# A WSGI server does not run Django's checks; refuse to serve with the demo's secret.
from core.checks import demo_secret_outside_debug  # noqa: E402

if errors := demo_secret_outside_debug(None):
    raise RuntimeError(errors[0].msg + " " + errors[0].hint)
