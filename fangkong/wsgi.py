"""The WSGI application: a device's online verify goes to the hot path (fangkong/checkpoints/
fastpath.py), every other request to Django (docs/verify-hot-path.md)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fangkong.settings")
django_application = get_wsgi_application()

from fangkong.base.admission import AdmissionGuard  # noqa: E402 - needs Django set up
from fangkong.checkpoints import fastpath  # noqa: E402

fast_verify = fastpath.FastVerify(django_application)


def dispatcher(environ, start_response):
    if fastpath.takes(environ):
        return fast_verify(environ, start_response)
    return django_application(environ, start_response)


# Outermost: a request that queued too long behind nginx is refused before any other work.
application = AdmissionGuard(dispatcher)
