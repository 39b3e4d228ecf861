"""A URL under /api/ that no view matches answers in the API's error shape, not Django's page."""

import pytest

from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/units/0.5/", "/api/v1/tasks/abc/history/", "/api/v2/tasks/"])
def test_an_unknown_api_url_is_a_json_404(client, path):
    response = client.get(path)
    assert response["Content-Type"] == "application/json"
    assert_error(response, 404, "not_found", strict=True)


def test_other_unknown_urls_keep_djangos_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
