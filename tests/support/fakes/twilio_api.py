"""A fake Twilio: the Messages API as the twilio client calls it, media, and webhooks.

It speaks Twilio's HTTP API (form-encoded POST with basic auth; 201 JSON replies; errors
as {"code", "message", "status"} JSON), records every message, and keeps WhatsApp's
rules: a free-form message to a number that has not written in 24 hours fails with
63016 (the fake knows each number's last message from the inbound webhooks it posted),
an opted-out number fails with 21610, and queued failures (429/20429, 500) can be set.
It posts inbound webhooks and status callbacks to the app, signed the way Twilio signs
them (the real RequestValidator's algorithm).
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp import read_form
from tests.support.fakes.server import LocalServer

WINDOW = dt.timedelta(hours=24)


@dataclass
class Sent:
    """A message the app created through the API."""

    sid: str
    to: str
    from_: str
    body: str | None
    content_sid: str | None
    content_variables: str | None
    media_urls: list[str]
    status_callback: str | None
    form: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Template:
    """A Content API template: its variables and WhatsApp's verdict on it."""

    variables: int = 0
    approval: str = "approved"  # approved, pending, received, rejected, unsubmitted
    rejection_reason: str = ""


# What Twilio says for a queued failure's code; some of its messages quote the number.
_MESSAGES = {
    21211: "The 'To' number {to} is not a valid phone number.",
}


class FakeTwilio:
    def __init__(self, account_sid: str, auth_token: str, now: Callable[[], dt.datetime]) -> None:
        self.account_sid, self.auth_token, self.now = account_sid, auth_token, now
        self.validator = RequestValidator(auth_token)
        self.sent: list[Sent] = []
        self.refused: list[tuple[str, int]] = []  # (to, Twilio error code)
        self.last_inbound: dict[str, dt.datetime] = {}  # "whatsapp:+62…" -> when
        self.opted_out: set[str] = set()
        self.failures: list[tuple[int, int]] = []  # (HTTP status, code) for the next sends
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_fetches = 0
        self.app_url = ""  # where the app listens (its JAMAAH_PUBLIC_URL)
        # What `jamaah doctor` asks: the account, its WhatsApp senders, its templates.
        self.account_status = "active"
        self.senders: dict[str, str] = {}  # "whatsapp:+62…" -> status ("ONLINE", …)
        self.templates: dict[str, Template] = {}  # content SID (HX…) -> template
        self._ids = itertools.count(1)
        self.server = LocalServer()
        self.url = self.server.url
        self.http = httpx.AsyncClient(timeout=10)

    # --- the REST API -----------------------------------------------------------------

    def asgi(self) -> Starlette:
        base = "/2010-04-01/Accounts/{account}"
        return Starlette(
            routes=[
                Route(base + "/Messages.json", self.create_message, methods=["POST"]),
                Route(base + "/Messages/{msg}/Media/{media}", self.get_media, methods=["GET"]),
                Route("/cdn/{media}", self.cdn, methods=["GET"]),
                Route("/2010-04-01/Accounts/{account}.json", self.get_account, methods=["GET"]),
                Route("/v2/Channels/Senders", self.list_senders, methods=["GET"]),
                Route("/v1/Content/{sid}", self.get_content, methods=["GET"]),
                Route("/v1/Content/{sid}/ApprovalRequests", self.get_approval, methods=["GET"]),
            ]
        )

    async def start(self) -> str:
        return await self.server.start(self.asgi())

    async def stop(self) -> None:
        await self.http.aclose()
        await self.server.stop()

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    @staticmethod
    def _error(status: int, code: int, message: str) -> JSONResponse:
        return JSONResponse(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status_code=status,
        )

    async def create_message(self, request: Request) -> Response:
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return self._error(401, 20003, "Authenticate")
        form = await read_form(request)
        fields = {key: [str(v) for v in form.getlist(key)] for key in form}
        to = str(form.get("To") or "")
        if not to.startswith("whatsapp:+") or not str(form.get("From", "")).startswith("whatsapp:"):
            return self._error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if self.failures:
            status, code = self.failures.pop(0)
            self.refused.append((to, code))
            said = "Too Many Requests" if status == 429 else _MESSAGES.get(code, "Error")
            return self._error(status, code, said.format(to=to))
        if to in self.opted_out:
            self.refused.append((to, 21610))
            return self._error(400, 21610, "Attempt to send to unsubscribed recipient")
        content_sid = form.get("ContentSid")
        last = self.last_inbound.get(to)
        if not content_sid and (last is None or self.now() - last >= WINDOW):
            self.refused.append((to, 63016))
            return self._error(
                400,
                63016,
                "Failed to send freeform message because you are outside the allowed window.",
            )
        sid = f"SM{next(self._ids):032x}"
        self.sent.append(
            Sent(
                sid=sid,
                to=to,
                from_=str(form.get("From")),
                body=str(form["Body"]) if "Body" in form else None,
                content_sid=str(content_sid) if content_sid else None,
                content_variables=str(form["ContentVariables"])
                if "ContentVariables" in form
                else None,
                media_urls=fields.get("MediaUrl", []),
                status_callback=str(form["StatusCallback"]) if "StatusCallback" in form else None,
                form=fields,
            )
        )
        created = self.now().strftime("%a, %d %b %Y %H:%M:%S +0000")
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": str(form.get("From")),
                "body": str(form.get("Body") or ""),
                "status": "queued",
                "num_media": str(len(fields.get("MediaUrl", []))),
                "num_segments": "1",
                "direction": "outbound-api",
                "date_created": created,
                "date_updated": created,
                "error_code": None,
                "error_message": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status_code=201,
        )

    async def get_account(self, request: Request) -> Response:
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return self._error(401, 20003, "Authenticate")
        return JSONResponse(
            {"sid": self.account_sid, "friendly_name": "Jamaah", "status": self.account_status}
        )

    async def list_senders(self, request: Request) -> Response:
        """Messaging v2 Channels/Senders?Channel=whatsapp: the account's WhatsApp senders."""
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        senders = [
            {"sid": f"XE{i:032x}", "sender_id": sender_id, "status": status}
            for i, (sender_id, status) in enumerate(self.senders.items(), start=1)
            if request.query_params.get("Channel", "whatsapp") == "whatsapp"
        ]
        return JSONResponse({"senders": senders, "meta": {"page": 0, "key": "senders"}})

    async def get_content(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        sid = request.path_params["sid"]
        template = self.templates.get(sid)
        if template is None:
            return self._error(404, 20404, f"The requested resource /Content/{sid} was not found")
        variables = {str(i): f"contoh {i}" for i in range(1, template.variables + 1)}
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "friendly_name": f"jamaah_{sid[-4:]}",
                "language": "id",
                "variables": variables,
                "types": {"twilio/text": {"body": "Halo {{1}}"}},
            }
        )

    async def get_approval(self, request: Request) -> Response:
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        sid = request.path_params["sid"]
        template = self.templates.get(sid)
        if template is None:
            return self._error(404, 20404, "Not found")
        whatsapp = {}
        if template.approval != "unsubmitted":
            whatsapp = {
                "name": f"jamaah_{sid[-4:]}",
                "category": "UTILITY",
                "content_type": "twilio/text",
                "status": template.approval,
                "rejection_reason": template.rejection_reason,
                "allow_category_change": True,
            }
        return JSONResponse({"sid": sid, "account_sid": self.account_sid, "whatsapp": whatsapp})

    async def get_media(self, request: Request) -> Response:
        """Twilio's media URL: needs the account's credentials; redirects to the file."""
        if not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        media = request.path_params["media"]
        if media not in self.media:
            return self._error(404, 20404, "Not found")
        return RedirectResponse(f"{self.url}/cdn/{media}", status_code=307)

    async def cdn(self, request: Request) -> Response:
        media = request.path_params["media"]
        if media not in self.media:
            return Response(status_code=404)
        self.media_fetches += 1
        data, content_type = self.media[media]
        return Response(data, media_type=content_type)

    # --- webhooks to the app ------------------------------------------------------------

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(self.validator.compute_signature(url, params))

    async def post_signed(
        self, path: str, params: dict[str, str], *, signature: str | None = None
    ) -> httpx.Response:
        url = self.app_url + path
        headers = {}
        if signature is None:
            signature = self.sign(url, params)
        if signature:
            headers["X-Twilio-Signature"] = signature
        return await self.http.post(url, data=params, headers=headers)

    async def inbound(
        self,
        phone: str,
        body: str = "",
        *,
        sid: str | None = None,
        profile: str = "Siti",
        media: tuple[bytes, str] | None = None,
        signature: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        """A WhatsApp message from `phone` (+62…) to the app, as Twilio posts it."""
        sid = sid or f"SM{next(self._ids) + 10_000_000:032x}"
        params = {
            "SmsMessageSid": sid,
            "MessageSid": sid,
            "AccountSid": self.account_sid,
            "From": f"whatsapp:{phone}",
            "To": "whatsapp:+14155238886",
            "Body": body,
            "NumMedia": "0",
            "ProfileName": profile,
            "WaId": phone.lstrip("+"),
            "MessageType": "text",
            "ApiVersion": "2010-04-01",
        }
        if media is not None:
            media_id = f"ME{next(self._ids):032x}"
            self.media[media_id] = media
            params["NumMedia"] = "1"
            params["MessageType"] = "image"
            params["MediaContentType0"] = media[1]
            params["MediaUrl0"] = (
                f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media/{media_id}"
            )
        params.update(extra or {})
        response = await self.post_signed("/whatsapp/inbound", params, signature=signature)
        if response.status_code == 200:
            self.last_inbound[f"whatsapp:{phone}"] = self.now()
        return response

    async def status(
        self, sid: str, status: str, *, error_code: int | None = None
    ) -> httpx.Response:
        """A status callback for message `sid`, to the URL given when it was created."""
        sent = next(s for s in self.sent if s.sid == sid)
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": self.account_sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": sent.to,
            "From": sent.from_,
            "ApiVersion": "2010-04-01",
        }
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        url = sent.status_callback or self.app_url + "/whatsapp/status"
        headers = {"X-Twilio-Signature": self.sign(url, params)}
        return await self.http.post(url, data=params, headers=headers)

    def to(self, phone: str) -> list[Sent]:
        return [s for s in self.sent if s.to == f"whatsapp:{phone}"]


__all__ = ["FakeTwilio", "Sent", "Template"]
