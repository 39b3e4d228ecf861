"""Robots' secrets, encrypted at rest.

A robot's webhook address carries its key, and a DingTalk robot has a signing secret:
whoever holds either can post to the group in the office's name. They are kept in the
database, because offices add and change robots through the API, but only encrypted
(Fernet: AES-128-CBC with an HMAC-SHA256) with a key that is not in the database:
``DUBAN["CHANNEL_SECRETS_KEY"]`` from the environment, else one derived from SECRET_KEY.
A copy of the database or a backup alone does not reveal them."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(configured: str, secret_key: str) -> Fernet:
    if configured:
        return Fernet(configured.encode())
    derived = hashlib.sha256(b"duban-channel-secrets:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def _cipher() -> Fernet:
    return _fernet(settings.DUBAN["CHANNEL_SECRETS_KEY"], settings.SECRET_KEY)


def encrypt(plain: str) -> str:
    return _cipher().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token: str) -> str:
    """The plain secret; an empty string if it was never set.

    Raises ``ValueError`` when the key has changed since it was stored: the message that
    needs it then fails for good and says why, rather than retrying for ever."""
    if not token:
        return ""
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("机器人密钥无法解密：加密密钥已更换，请重新设置该机器人的地址和密钥。") from error
