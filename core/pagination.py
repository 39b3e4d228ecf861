from django.utils.translation import gettext_lazy as _
from rest_framework import pagination

from .errors import InvalidInput


class PageNumberPagination(pagination.PageNumberPagination):
    """Pages of 20, at most 200 a page. ``page`` and ``page_size`` are positive integers:
    anything else is refused with a 400 rather than quietly read as the default, so that a
    client learns of its mistake, and the schema says so (minimum 1). A page past the last
    is a 404."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 200
    # "last" is not an integer; the schema declares none but integers.
    last_page_strings = ()

    def paginate_queryset(self, queryset, request, view=None):
        invalid = {
            name: [_("须为不小于 1 的整数。")]
            for name in (self.page_query_param, self.page_size_query_param)
            if name in request.query_params and not _positive_integer(request.query_params[name])
        }
        if invalid:
            raise InvalidInput(_("分页参数有误。"), fields=invalid)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"{parameter['description']} Above {self.max_page_size}, {self.max_page_size}."
                )
        return parameters


def _positive_integer(value: str) -> bool:
    # ASCII digits only: int() would also take " 5", "+5", "1_0" and other scripts' digits.
    return value.isascii() and value.isdigit() and int(value) >= 1
