"""The escalation-rule directory refuses a second default rule for a level with a 400: found by
fuzzing the API, where it was a 500 from the database's conditional unique constraint."""

import pytest

from notifications.models import EscalationRule
from tasks.rungs import Level
from tests.helpers import assert_error

# What the database itself refuses (numbers past its range, NULL), SQLite refuses its own way.
pytestmark = pytest.mark.sqlite


def test_a_second_default_rule_for_a_level_is_refused(api, world):
    assert EscalationRule.objects.filter(campaign=None, level=Level.REMINDER).exists()
    response = api.as_user("admin").post("/api/v1/escalation-rules/", {"level": Level.REMINDER})
    assert_error(response, 400, "level_taken", fields={"level"})
    assert EscalationRule.objects.filter(campaign=None, level=Level.REMINDER).count() == 1


def test_a_campaigns_rule_cannot_become_a_second_default(api, world):
    rule = EscalationRule.objects.create(campaign=world.campaign, level=Level.OVERDUE, offset_working_days=0)
    response = api.as_user("admin").patch(f"/api/v1/escalation-rules/{rule.pk}/", {"campaign": None})
    assert_error(response, 400, "level_taken", fields={"level"})
    rule.refresh_from_db()
    assert rule.campaign == world.campaign


def test_a_default_rule_can_still_be_edited(api, world):
    rule = EscalationRule.objects.get(campaign=None, level=Level.LISTED)
    response = api.as_user("admin").patch(f"/api/v1/escalation-rules/{rule.pk}/", {"offset_working_days": 4})
    assert response.status_code == 200, response.content
    assert response.json()["offset_working_days"] == 4


def test_a_campaign_may_have_its_own_rule_for_a_level(api, world):
    response = api.as_user("admin").post(
        "/api/v1/escalation-rules/", {"campaign": world.campaign.pk, "level": Level.REMINDER}
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("name", ["campaign", "task", "unit"])
@pytest.mark.parametrize("value", ["-3.3e83", "99999999999999999999", "0.5"])
def test_an_id_filter_that_no_id_can_match_is_refused(api, world, name, value):
    """A number past what the database stores was a 500 on SQLite."""
    response = api.as_user("city_supervisor").get("/api/v1/escalations/", {name: value})
    assert_error(response, 400, "invalid", fields={name})
