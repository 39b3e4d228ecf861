from .selectors import access_scope


class AccessScopeMiddleware:
    """What the caller's memberships reach is read once per request, and never kept past it
    (``responsibility.selectors.access_scope``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with access_scope():
            return self.get_response(request)
