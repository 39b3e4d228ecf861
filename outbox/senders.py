"""The channels' own protocols: a 企业微信 group robot, a 钉钉 custom robot, an SMS gateway.

Each is written as its documentation gives it; the tests run them against local servers
that check the same rules (tests/outbox/fakes.py, also what ``bin/demo`` starts).

企业微信 group robot, "群机器人配置说明" (https://work.weixin.qq.com/api/doc/90000/90136/91770):
POST the webhook (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…) with
``{"msgtype": "markdown", "markdown": {"content": …}}``, content at most 4096 bytes of
UTF-8; at most 20 messages a minute per robot. The answer is ``{"errcode", "errmsg"}``;
the global error codes (https://developer.work.weixin.qq.com/document/path/90313) include
45009 (接口调用超过限制: too many calls) and 93000 (invalid webhook url: a bad key).

钉钉 custom robot, "自定义机器人接入" (https://open.dingtalk.com/document/robots/custom-robot-access,
its 加签 section and error codes): sign ``timestamp + "\\n" +
secret`` with HmacSHA256 keyed by the secret, base64 it, url-encode it, and add
``timestamp`` (milliseconds, within an hour of the server's clock) and ``sign`` to the
webhook's query; POST ``{"msgtype": "markdown", "markdown": {"title", "text"}}``. At most
20 messages a minute per robot; beyond that the robot is throttled for 10 minutes
(errcode 130101, "send too fast"). 310000 is a refused security check (bad signature,
keyword, IP); 300001 an unknown access token. Its documentation gives no length limit
for markdown; the same 4096 bytes as 企业微信 keep a digest readable on a phone.

SMS, in the shape of Aliyun's SendSms
(https://help.aliyun.com/en/sms/developer-reference/api-dysmsapi-2017-05-25-sendsms; error
codes https://help.aliyun.com/document_detail/101347.htm): a form POST of PhoneNumbers,
SignName, TemplateCode, TemplateParam (JSON of string values) and OutId, signed with the
RPC signature (HMAC-SHA1 of
``POST&%2F&`` + the percent-encoded sorted query, keyed by the access key secret and
``&``). The answer is ``{"Code": "OK" | "isv.…", "Message", "BizId", "RequestId"}``. The
API is not idempotent (its own documentation says so): OutId carries the message's id so
that a resend after a lost answer can be matched to the first.
"""

import base64
import datetime
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass

from django.conf import settings

WECOM_MAX_BYTES = 4096
DINGTALK_MAX_BYTES = 4096
# 钉钉 throttles a robot that went over its limit for ten minutes.
DINGTALK_THROTTLE_SECONDS = 600

WECOM_RATE_LIMITED = {45009}
WECOM_REFUSED = {
    93000: "机器人地址无效（key 错误或机器人已被移除）",
    40008: "消息类型不合法",
    44004: "消息内容为空",
}
DINGTALK_RATE_LIMITED = {130101}
DINGTALK_REFUSED = {
    310000: "安全设置校验未通过（签名、关键词或 IP）",
    300001: "access_token 不存在",
    400102: "机器人已停用",
}
SMS_RATE_LIMITED = {"isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL"}
SMS_RETRY = {"isp.SYSTEM_ERROR", "Throttling", "ServiceUnavailable"}


class SendError(Exception):
    """A channel did not take the message. ``permanent``: it never will (a bad key, an
    unknown number); ``hold_seconds``: it asked to be left alone that long (rate limit)."""

    def __init__(self, message: str, *, permanent: bool = False, hold_seconds: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.hold_seconds = hold_seconds


def _timeout() -> float:
    return settings.DUBAN["CHANNEL_TIMEOUT_SECONDS"]


def _post(url: str, body: bytes, content_type: str) -> dict:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=_timeout()) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        # A 4xx other than 429 is the address or the request itself; it will not change.
        permanent = 400 <= error.code < 500 and error.code != 429
        raise SendError(f"HTTP {error.code}", permanent=permanent) from error
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise SendError(f"{type(error).__name__}: {getattr(error, 'reason', error)}") from error
    try:
        return json.loads(raw)
    except ValueError as error:
        raise SendError(f"应答不是 JSON：{raw[:200]!r}") from error


def _post_json(url: str, payload: dict) -> dict:
    return _post(url, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")


def split_markdown(title: str, text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` bytes, cut only at line ends; every part after
    the first opens with the title and "（续）" so the group reads it as one digest.

    A single line longer than a part could hold (none of Duban's are: titles and names
    are bounded far below it) is the only thing ever cut inside a line, at a character."""
    continued = f"**{title}（续）**\n"
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit - len(continued.encode()):
            head = line.encode()[: limit - len(continued.encode())].decode(errors="ignore")
            line = line[len(head) :]
            parts, current = _flush(parts, current), head
        if current and len((current + line).encode()) > limit - (len(continued.encode()) if parts else 0):
            parts, current = _flush(parts, current), ""
        current += line
    parts = _flush(parts, current)
    return [part if index == 0 else continued + part for index, part in enumerate(parts)]


def _flush(parts: list[str], current: str) -> list[str]:
    return [*parts, current.rstrip("\n")] if current.strip() else parts


def robot_parts(kind: str, title: str, text: str) -> list[str]:
    return split_markdown(title, text, WECOM_MAX_BYTES if kind == "wecom" else DINGTALK_MAX_BYTES)


def wecom_send(webhook: str, content: str) -> None:
    answer = _post_json(webhook, {"msgtype": "markdown", "markdown": {"content": content}})
    code = answer.get("errcode")
    if code == 0:
        return
    detail = f"企业微信 errcode {code}: {answer.get('errmsg', '')}"
    if code in WECOM_RATE_LIMITED:
        raise SendError(detail, hold_seconds=60)
    if code in WECOM_REFUSED:
        raise SendError(f"{detail}（{WECOM_REFUSED[code]}）", permanent=True)
    raise SendError(detail)


def dingtalk_signed(webhook: str, secret: str, now: float | None = None) -> str:
    """The webhook with ``timestamp`` and ``sign`` added, as 钉钉's 加签 asks."""
    if not secret:
        return webhook
    timestamp = str(round((time.time() if now is None else now) * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{webhook}{'&' if '?' in webhook else '?'}timestamp={timestamp}&sign={sign}"


def dingtalk_send(webhook: str, secret: str, title: str, text: str) -> None:
    payload = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    answer = _post_json(dingtalk_signed(webhook, secret), payload)
    code = answer.get("errcode")
    if code == 0:
        return
    detail = f"钉钉 errcode {code}: {answer.get('errmsg', '')}"
    if code in DINGTALK_RATE_LIMITED:
        raise SendError(detail, hold_seconds=DINGTALK_THROTTLE_SECONDS)
    if code in DINGTALK_REFUSED:
        raise SendError(f"{detail}（{DINGTALK_REFUSED[code]}）", permanent=True)
    raise SendError(detail)


def robot_send(kind: str, webhook: str, secret: str, title: str, text: str) -> None:
    if kind == "wecom":
        wecom_send(webhook, text)
    else:
        dingtalk_send(webhook, secret, title, text)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding, as Aliyun's RPC signature requires (space as %20, ``~`` kept)."""
    return urllib.parse.quote(value, safe="~")


def aliyun_signature(params: dict[str, str], secret: str, method: str = "POST") -> str:
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class AliyunSms:
    """The SMS gateway: Aliyun's SendSms over HTTP. Another provider is another class with
    the same ``send``."""

    endpoint: str
    access_key_id: str
    access_key_secret: str
    sign_name: str

    def send(self, *, mobile: str, template: str, params: dict[str, str], out_id: str) -> None:
        if not self.endpoint:
            raise SendError("短信网关未配置（DUBAN_SMS_ENDPOINT）")
        query = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": out_id,
            "PhoneNumbers": mobile,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "TemplateParam": json.dumps(params, ensure_ascii=False),
            "Timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        query["Signature"] = aliyun_signature(query, self.access_key_secret)
        body = urllib.parse.urlencode(query, quote_via=urllib.parse.quote).encode()
        answer = _post(self.endpoint, body, "application/x-www-form-urlencoded")
        code = answer.get("Code")
        if code == "OK":
            return
        detail = f"短信网关 {code}: {answer.get('Message', '')}"
        if code in SMS_RATE_LIMITED:
            raise SendError(detail, hold_seconds=3600)
        raise SendError(detail, permanent=code not in SMS_RETRY)


def sms_gateway() -> AliyunSms:
    duban = settings.DUBAN
    return AliyunSms(
        endpoint=duban["SMS_ENDPOINT"],
        access_key_id=duban["SMS_ACCESS_KEY_ID"],
        access_key_secret=duban["SMS_ACCESS_KEY_SECRET"],
        sign_name=duban["SMS_SIGN_NAME"],
    )
