"""Loading the demo: Jinzhou's 精准脱贫"百日攻坚行动" of 2018, built through the services."""

from django.db import transaction

from responsibility.models import Unit, User
from responsibility.selectors import access_scope
from tasks.lateness import today
from tasks.models import Campaign

from .builder import Builder, Demo
from .campaign import build_work
from .channels import demo_channels
from .data import DEMO_PASSWORD


def demo_data_exists() -> bool:
    """Whether the database holds anything the demo could clash with or be confused with."""
    return Unit.objects.exists() or User.objects.exists() or Campaign.objects.exists()


@transaction.atomic
def demo_load(*, password: str = DEMO_PASSWORD, channels_url: str = "") -> Demo:
    """Build the whole demo in one transaction: either all of it is there or none.

    Dates are counted from ``tasks.lateness.today()``, the day the services use too. One
    access scope for the whole load, as for a request: the people act on a tree that is
    built before they do, and adding a membership clears the scope.
    """
    with access_scope():
        builder = Builder(on=today(), password=password)
        builder.build_tree()
        builder.build_people()
        builder.set_passwords()
        builder.issue_tokens()
        builder.build_campaign()
        build_work(builder)
        if channels_url:
            demo_channels(builder, channels_url)
        return Demo(campaign=builder.campaign, users=builder.user_rows(), password=password)
