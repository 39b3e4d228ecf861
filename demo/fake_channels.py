"""Local servers that speak the channels' protocols: a 企业微信 group robot, a 钉钉 custom
robot and an SMS gateway in Aliyun's SendSms shape, in one HTTP server.

Each checks a request as the real service does (see outbox/senders.py for the sources):
the JSON shape, the markdown's length (4096 bytes), 钉钉's timestamp and signature, the
SMS gateway's RPC signature and parameters, and a robot's limit of 20 messages a minute.
It answers with the service's own codes: success, rate limited, invalid key or a refused
signature; or it hangs. ``bin/demo`` runs one and prints what it receives; the tests run
one per test and read ``received``.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from outbox.senders import DINGTALK_MAX_BYTES, WECOM_MAX_BYTES, aliyun_signature

RATE = (20, 60)
MOBILE = re.compile(r"^1\d{10}$")
SMS_REQUIRED = (
    "AccessKeyId",
    "Action",
    "PhoneNumbers",
    "SignName",
    "TemplateCode",
    "TemplateParam",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "Timestamp",
    "Version",
    "Signature",
)


@dataclass
class Received:
    channel: str  # wecom, dingtalk, sms
    key: str  # the robot's key or access token, or the mobile
    body: dict
    at: float

    @property
    def text(self) -> str:
        markdown = self.body.get("markdown", {})
        return markdown.get("content") or markdown.get("text") or ""


@dataclass
class FakeChannels:
    """What the server knows and does: its robots, their modes, what it received."""

    wecom_keys: set[str] = field(default_factory=set)
    dingtalk_secrets: dict[str, str] = field(default_factory=dict)  # access token -> secret
    sms_keys: dict[str, str] = field(default_factory=dict)  # access key id -> secret
    # key (robot key, access token or mobile) -> "ok" | "rate_limited" | "hang"
    modes: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, str, str]] = field(default_factory=list)  # (channel, key, why)
    limited: list[tuple[str, str]] = field(default_factory=list)  # (channel, key) answered "too fast"
    echo: bool = False
    # The demo's server knows no keys in advance: it takes any 企业微信 key, and any 钉钉
    # token signed with this secret.
    any_key_secret: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)
    _sends: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))

    def of(self, key: str) -> list[Received]:
        return [item for item in self.received if item.key == key]

    def _over_limit(self, key: str, now: float) -> bool:
        """The service's own count of the robot's messages in the last minute."""
        count, seconds = RATE
        sends = self._sends[key]
        while sends and sends[0] <= now - seconds:
            sends.popleft()
        if len(sends) >= count:
            return True
        sends.append(now)
        return False

    def _refuse(self, channel: str, key: str, why: str) -> None:
        with self.lock:
            self.refused.append((channel, key, why))

    def _accept(self, item: Received) -> None:
        with self.lock:
            self.received.append(item)
        if self.echo:
            shown = item.text or (
                f"短信 {item.body['SignName']} 模板 {item.body['TemplateCode']} "
                f"{item.body['TemplateParam']}（OutId {item.body.get('OutId', '')}）"
            )
            print(f"\n===== {item.channel} → {item.key} =====\n{shown}", flush=True)

    def _hang(self, key: str) -> bool:
        if self.modes.get(key) == "hang":
            self.release.wait(30)
            return True
        return False

    def wecom(self, query: dict, body: dict) -> dict:
        key = query.get("key", "")
        if key not in self.wecom_keys and self.any_key_secret is None:
            self._refuse("wecom", key, "invalid key")
            return {"errcode": 93000, "errmsg": "invalid webhook url, hint: [fake]"}
        if body.get("msgtype") != "markdown" or not isinstance(body.get("markdown", {}).get("content"), str):
            self._refuse("wecom", key, "shape")
            return {"errcode": 40008, "errmsg": "invalid message type"}
        if len(body["markdown"]["content"].encode()) > WECOM_MAX_BYTES:
            self._refuse("wecom", key, "too long")
            return {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        with self.lock:
            limited = self.modes.get(key) == "rate_limited" or self._over_limit(key, time.time())
        if limited:
            self.limited.append(("wecom", key))
            return {"errcode": 45009, "errmsg": "api freq out of limit"}
        self._accept(Received("wecom", key, body, time.time()))
        return {"errcode": 0, "errmsg": "ok"}

    def dingtalk(self, query: dict, body: dict) -> dict:
        token = query.get("access_token", "")
        secret = self.dingtalk_secrets.get(token, self.any_key_secret)
        if secret is None:
            self._refuse("dingtalk", token, "invalid token")
            return {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp = query.get("timestamp", "")
        if secret:
            expected = base64.b64encode(
                hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
            ).decode()
            fresh = timestamp.isdigit() and abs(int(timestamp) / 1000 - time.time()) < 3600
            if not fresh or query.get("sign") != expected:
                self._refuse("dingtalk", token, "sign")
                return {"errcode": 310000, "errmsg": "sign not match"}
        markdown = body.get("markdown", {})
        if body.get("msgtype") != "markdown" or not all(
            isinstance(markdown.get(k), str) for k in ("title", "text")
        ):
            self._refuse("dingtalk", token, "shape")
            return {"errcode": 40035, "errmsg": "缺少参数 markdown"}
        if len(markdown["text"].encode()) > DINGTALK_MAX_BYTES:
            self._refuse("dingtalk", token, "too long")
            return {"errcode": 460101, "errmsg": "message too long"}
        with self.lock:
            limited = self.modes.get(token) == "rate_limited" or self._over_limit(token, time.time())
        if limited:
            self.limited.append(("dingtalk", token))
            return {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
        self._accept(Received("dingtalk", token, body, time.time()))
        return {"errcode": 0, "errmsg": "ok"}

    def sms(self, form: dict) -> dict:
        missing = [name for name in SMS_REQUIRED if not form.get(name)]
        if missing or form.get("Action") != "SendSms":
            self._refuse("sms", form.get("PhoneNumbers", ""), f"missing {missing}")
            return {"Code": "isv.INVALID_PARAMETERS", "Message": f"缺少参数 {missing}"}
        secret = self.sms_keys.get(form["AccessKeyId"])
        if secret is None:
            return {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}
        unsigned = {name: value for name, value in form.items() if name != "Signature"}
        if aliyun_signature(unsigned, secret) != form["Signature"]:
            self._refuse("sms", form["PhoneNumbers"], "signature")
            return {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        mobile = form["PhoneNumbers"]
        if not MOBILE.match(mobile):
            return {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        try:
            params = json.loads(form["TemplateParam"])
        except ValueError:
            params = None
        if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
            return {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法，只接受字符串值"}
        if self.modes.get(mobile) == "rate_limited":
            return {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"}
        self._accept(Received("sms", mobile, form, time.time()))
        return {
            "Code": "OK",
            "Message": "OK",
            "BizId": str(time.time_ns()),
            "RequestId": form["SignatureNonce"],
        }


class _Handler(BaseHTTPRequestHandler):
    server: "FakeChannelServer"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        if url.path == "/cgi-bin/webhook/send":
            key = query.get("key", "")
            if fake._hang(key):
                return
            answer = fake.wecom(query, _json(raw))
        elif url.path == "/robot/send":
            if fake._hang(query.get("access_token", "")):
                return
            answer = fake.dingtalk(query, _json(raw))
        elif url.path == "/sms/":
            form = dict(urllib.parse.parse_qsl(raw.decode()))
            if fake._hang(form.get("PhoneNumbers", "")):
                return
            answer = fake.sms(form)
        else:
            self.send_error(404)
            return
        body = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _json(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class FakeChannelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeChannels, port: int = 0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.fake = fake
        self.thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wecom_url(self, key: str) -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def dingtalk_url(self, token: str) -> str:
        return f"{self.base}/robot/send?access_token={token}"

    @property
    def sms_url(self) -> str:
        return f"{self.base}/sms/"

    def start(self) -> "FakeChannelServer":
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.fake.release.set()
        self.shutdown()
        self.server_close()
