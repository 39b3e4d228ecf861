"""The demo's group robots and mobiles, pointing at the local stand-in that ``bin/demo``
starts (``manage.py fake_channels``), so a newcomer sees what the sweep would post and text.

Set up only when ``DUBAN_DEMO_CHANNELS`` names the stand-in's address; the numbers are
the reserved-looking 139 0000 xxxx and reach nobody."""

from outbox.channels import contact_update, robot_create
from responsibility.models import User

from .builder import Builder
from .data import COUNTIES

DEMO_SECRET = "SECduban-demo-secret"
SMS_KEY_ID, SMS_KEY_SECRET = "duban-demo", "duban-demo-gateway-secret"


def demo_channels(builder: Builder, base_url: str) -> int:
    """A 企业微信 robot on every county and township, a signed 钉钉 robot on the city's
    headquarters, and mobiles for the county heads and the city's office; the number of
    robots set up."""
    admin = builder.people["admin"]
    robots = 0
    for slug, _name, _kind, _office, _title, townships in COUNTIES:
        for unit_slug in [slug, *(township[0] for township in townships)]:
            unit = builder.units[unit_slug]
            webhook = f"{base_url}/cgi-bin/webhook/send?key=demo-{unit_slug}"
            robot_create(actor=admin, unit=unit, kind="wecom", name=f"{unit.name}督办工作群", webhook=webhook)
            robots += 1
    robot_create(
        actor=admin,
        unit=builder.units["zhihuibu"],
        kind="dingtalk",
        name="指挥部钉钉群",
        webhook=f"{base_url}/robot/send?access_token=demo-zhihuibu",
        secret=DEMO_SECRET,
    )
    mobiles = [f"{slug}_head" for slug, *_rest in COUNTIES] + ["ducha_chief"]
    for n, username in enumerate(mobiles):
        # The office's chief wants SMS even when a group is told; the heads read their group first.
        order = ["sms", "robot"] if username == "ducha_chief" else []
        person = User.objects.get(username=username)
        contact_update(actor=admin, person=person, mobile=f"139000000{n:02d}", channel_order=order)
    return robots + 1
