from django.core.management.base import BaseCommand

from demo.channels import DEMO_SECRET, SMS_KEY_ID, SMS_KEY_SECRET
from demo.fake_channels import FakeChannels, FakeChannelServer


class Command(BaseCommand):
    help = (
        "Serve a local stand-in for the 企业微信 and 钉钉 group robots and the SMS gateway, and print "
        "every message it accepts: what Duban would have posted to the groups or texted."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765)

    def handle(self, *args, port: int, **options):
        fake = FakeChannels(echo=True, any_key_secret=DEMO_SECRET, sms_keys={SMS_KEY_ID: SMS_KEY_SECRET})
        server = FakeChannelServer(fake, port=port)
        self.stdout.write(f"Robots and SMS gateway stand-in on {server.base} (stop with Ctrl-C)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
