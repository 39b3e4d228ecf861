"""The embedded default's e-mail: each message as its own .eml file in a folder."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone


class EmlFileBackend(BaseEmailBackend):
    """Writes every message to ``EMAIL_FILE_PATH`` as ``<time>-<id>.eml``, openable in any mail client."""

    def send_messages(self, email_messages) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
            (folder / name).write_bytes(message.message().as_bytes(linesep="\r\n"))
        return len(email_messages)
