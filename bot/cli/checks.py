"""What `jamaah doctor` checks: each check returns lines of ✓ / ✗ with the fix.

Written for an operator with no engineer on call: a ✗ says what is wrong and what to
do, in that order. A channel that is not configured is "not configured" (–), not ✗; a
warning (!) is worth knowing and does not fail the run.

The Bot API and Twilio's REST API are asked with plain HTTP (httpx), not through
python-telegram-bot and the twilio client: the doctor needs the answers' status codes
and `Date` headers (to compare this machine's clock with theirs), and one request each.
`JAMAAH_TELEGRAM_BASE_URL` and `JAMAAH_TWILIO_API_URL` point them elsewhere (the tests'
fakes); the latter stands for every Twilio host (api, messaging, content).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
import re
import shutil
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from fpdf import FPDF
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.app import load_checked_content
from bot.channels.telegram import SECRET, WEBHOOK_PATH, api_urls, webhook_mode
from bot.channels.whatsapp import parse_templates
from bot.core.config import Settings, SettingsError
from bot.core.phones import PhoneError, normalise_phone
from bot.documents.plan import FONT_DIR
from content.errors import ContentError
from storage.db import MIGRATIONS, head_revision, is_sqlite, make_engine, stored_revision

OK, FAIL, WARN, OFF = "ok", "fail", "warn", "off"
MARKS = {OK: "✓", FAIL: "✗", WARN: "!", OFF: "–"}
SANDBOX = "+14155238886"  # Twilio's WhatsApp sandbox number
INDONESIAN_ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
CLOCK_SKEW_S = 60.0  # more than this off Telegram's or Twilio's clock is a problem
BACKUP_MAX_AGE = dt.timedelta(hours=26)  # a daily backup, with two hours to spare
DISK_FAIL_BYTES = 500 * 1024**2
DISK_WARN_BYTES = 2 * 1024**3
HTTP_TIMEOUT_S = 10.0
TWILIO_HOSTS = {
    "api": "https://api.twilio.com",
    "messaging": "https://messaging.twilio.com",
    "content": "https://content.twilio.com",
}


@dataclass(frozen=True)
class Check:
    status: str  # OK, FAIL, WARN or OFF
    title: str  # what holds, or what is wrong
    fix: str = ""  # what to do (a ✗ or a warning)

    def lines(self) -> list[str]:
        out = [f"{MARKS[self.status]} {self.title}"]
        if self.fix:
            out.append(f"    fix: {self.fix}")
        return out


@dataclass
class Doctor:
    """One run: the settings, the database URL, and the remote clocks seen on the way."""

    settings: Settings
    url: str
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    remote_dates: list[tuple[str, dt.datetime]] = field(default_factory=list)
    timezones: set[str] = field(default_factory=set)  # the cohorts' (from the database)
    database_bytes: int = 0

    async def run(self) -> list[Check]:
        checks: list[Check] = []
        checks += await self.database()
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
            checks += await self.telegram(http)
            checks += await self.whatsapp(http)
            checks += await self.public_url(http)
        checks += self.content()
        checks += self.fonts()
        checks += self.clock()
        checks += self.disk()
        checks += self.backups()
        return checks

    def _saw_date(self, source: str, response: httpx.Response) -> None:
        raw = response.headers.get("date")
        if not raw:
            return
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return
        if when.tzinfo is not None:
            self.remote_dates.append((source, when))

    # --- the database --------------------------------------------------------------

    async def database(self) -> list[Check]:
        shown = make_url(self.url).render_as_string(hide_password=True)
        if is_sqlite(self.url):
            path = Path(make_url(self.url).database or "")
            if not path.is_file():
                return [
                    Check(
                        FAIL,
                        f"database: no SQLite file at {path}",
                        "run `jamaah db upgrade` to create it (the bot also creates it when "
                        "it starts); if the bot ran before, check JAMAAH_DATA_DIR or "
                        "JAMAAH_DATABASE_URL names the folder it used, or restore a backup "
                        "(`jamaah restore`).",
                    )
                ]
            self.database_bytes = path.stat().st_size
            reach_fix = (
                f"check that {path} is readable and writable by the user the bot runs as "
                "and that the disk is not full."
            )
        else:
            reach_fix = (
                "check that the PostgreSQL server runs (`systemctl status postgresql`, or "
                "`docker compose ps`), and the host, port, user, password and database name "
                "in JAMAAH_DATABASE_URL."
            )
        engine = make_engine(self.url)
        try:
            stored = await stored_revision(engine)
            if stored is not None:
                async with engine.begin() as conn:
                    rows = await conn.execute(text("SELECT DISTINCT timezone FROM cohorts"))
                    self.timezones = {str(row[0]) for row in rows}
        except Exception as error:  # any failure to reach it is the finding
            return [
                Check(
                    FAIL,
                    f"database: {shown} does not answer ({type(error).__name__}: "
                    f"{_first_line(error)})",
                    reach_fix,
                )
            ]
        finally:
            await engine.dispose()
        head = head_revision()
        known = _known_revisions()
        if stored is None:
            return [
                Check(
                    FAIL,
                    f"database: {shown} answers but has no tables yet",
                    "run `jamaah db upgrade` (the bot also does it when it starts).",
                )
            ]
        if stored not in known:
            return [
                Check(
                    FAIL,
                    f"database: at migration {stored}, which this version of Jamaah does not "
                    "know: it was made by a newer version",
                    "install the newer version again, or restore a backup made with this one.",
                )
            ]
        if head is not None and stored != head:
            return [
                Check(
                    FAIL,
                    f"database: at migration {stored}, the newest is {head}",
                    "run `jamaah db upgrade` (the bot also does it when it starts); take a "
                    "backup first (`jamaah backup`).",
                )
            ]
        return [Check(OK, f"database: {shown} answers, at the newest migration ({stored})")]

    # --- Telegram ------------------------------------------------------------------

    async def telegram(self, http: httpx.AsyncClient) -> list[Check]:
        settings = self.settings
        token = settings.telegram_token
        if not token:
            return [Check(OFF, "Telegram: not configured (JAMAAH_TELEGRAM_TOKEN is not set)")]
        bot_id = token.split(":", 1)[0]
        base, _ = api_urls(settings.telegram_base_url)
        server = urlsplit(base).netloc
        try:
            me = await http.get(f"{base}{token}/getMe")
        except httpx.HTTPError as error:
            return [
                Check(
                    FAIL,
                    f"Telegram: {server} did not answer ({type(error).__name__})",
                    f"check that this machine reaches the internet and {server} "
                    f"(`curl -sI https://{server}`): DNS, a firewall or a proxy may be in "
                    "the way.",
                )
            ]
        self._saw_date("Telegram", me)
        if me.status_code in (401, 404):
            return [
                Check(
                    FAIL,
                    f"Telegram token: Telegram refused JAMAAH_TELEGRAM_TOKEN (bot {bot_id})",
                    "in Telegram, open @BotFather, send /mybots, choose the bot, then "
                    "'API Token', and copy the whole token (like 123456789:AAE…) into "
                    "JAMAAH_TELEGRAM_TOKEN; a token revoked there stops working at once. "
                    "Then restart the bot.",
                )
            ]
        body = _json(me)
        if me.status_code != 200 or not body.get("ok"):
            return [
                Check(
                    FAIL,
                    f"Telegram token: getMe answered {me.status_code} "
                    f"({str(body.get('description', ''))[:80]})",
                    "try again in a few minutes; if it stays, see https://t.me/BotNews and "
                    "check JAMAAH_TELEGRAM_BASE_URL.",
                )
            ]
        username = (body.get("result") or {}).get("username", "?")
        checks = [Check(OK, f"Telegram token: valid, the bot is @{username}")]

        info_response = await http.get(f"{base}{token}/getWebhookInfo")
        info = (_json(info_response).get("result") or {}) if info_response.is_success else {}
        current = str(info.get("url") or "")
        pending = int(info.get("pending_update_count") or 0)
        waiting = f"; {pending} update(s) waiting" if pending else ""
        secret = settings.telegram_webhook_secret
        if webhook_mode(settings):
            assert settings.public_url and secret
            expected = settings.public_url.rstrip("/") + WEBHOOK_PATH
            if not SECRET.match(secret):
                checks.append(
                    Check(
                        FAIL,
                        "Telegram webhook: JAMAAH_TELEGRAM_WEBHOOK_SECRET has characters "
                        "Telegram does not allow",
                        "use 1-256 characters of A-Z, a-z, 0-9, _ and -, for example "
                        "`openssl rand -hex 32`; then restart the bot.",
                    )
                )
            elif not current:
                checks.append(
                    Check(
                        FAIL,
                        f"Telegram webhook: none is set, but JAMAAH_PUBLIC_URL and "
                        f"JAMAAH_TELEGRAM_WEBHOOK_SECRET ask for {expected}",
                        "the bot sets it when it starts: start (or restart) the bot and run "
                        "`jamaah doctor` again; if it stays empty, the bot's log says why.",
                    )
                )
            elif current != expected:
                checks.append(
                    Check(
                        FAIL,
                        f"Telegram webhook: points at {current}, not at {expected}",
                        "another server or an old setup with the same token set it: stop "
                        "that one, then restart this bot, which sets the webhook to "
                        f"{expected}. If {expected} is wrong, correct JAMAAH_PUBLIC_URL.",
                    )
                )
            elif info.get("last_error_message") and _recent(info.get("last_error_date"), self.now):
                said = str(info["last_error_message"])[:120]
                checks.append(
                    Check(
                        FAIL,
                        f"Telegram webhook: set to {expected}, but Telegram's last delivery "
                        f"failed: {said}",
                        "a 403 means the secret Telegram sends is not "
                        "JAMAAH_TELEGRAM_WEBHOOK_SECRET: restart the bot so that it registers "
                        "the webhook with it again. Otherwise check that the reverse proxy "
                        f"passes {WEBHOOK_PATH} to the bot and that the bot runs.",
                    )
                )
            else:
                checks.append(
                    Check(
                        OK,
                        f"Telegram webhook: set to {expected}, with the secret{waiting} "
                        "(Telegram does not show the secret; a wrong one shows here as "
                        "failed deliveries)",
                    )
                )
            return checks
        if current:
            checks.append(
                Check(
                    FAIL,
                    f"Telegram: polling is configured, but a webhook is still set to {current}, "
                    "so polling gets nothing",
                    "stop whatever else runs with this token (an old server); this bot "
                    "removes the webhook when it starts polling. To use the webhook instead, "
                    "set both JAMAAH_PUBLIC_URL and JAMAAH_TELEGRAM_WEBHOOK_SECRET.",
                )
            )
        else:
            checks.append(Check(OK, f"Telegram: polling, with no webhook left set{waiting}"))
        if secret and not settings.public_url:
            checks.append(
                Check(
                    WARN,
                    "Telegram: JAMAAH_TELEGRAM_WEBHOOK_SECRET is set without JAMAAH_PUBLIC_URL, "
                    "so the bot polls",
                    "set JAMAAH_PUBLIC_URL for a webhook, or unset the secret.",
                )
            )
        return checks

    # --- WhatsApp through Twilio ----------------------------------------------------

    async def whatsapp(self, http: httpx.AsyncClient) -> list[Check]:
        settings = self.settings
        given = {
            "JAMAAH_TWILIO_ACCOUNT_SID": settings.twilio_account_sid,
            "JAMAAH_TWILIO_AUTH_TOKEN": settings.twilio_auth_token,
            "JAMAAH_TWILIO_WHATSAPP_FROM": settings.twilio_whatsapp_from,
        }
        missing = [name for name, value in given.items() if not value]
        if len(missing) == len(given):
            return [Check(OFF, "WhatsApp: not configured (JAMAAH_TWILIO_* are not set)")]
        if missing:
            return [
                Check(
                    FAIL,
                    f"WhatsApp: {', '.join(missing)} not set, so the channel does not start",
                    "set all three (the account SID and auth token from console.twilio.com, "
                    "and the sender as whatsapp:+62…), or none for no WhatsApp.",
                )
            ]
        sid, auth = str(settings.twilio_account_sid), str(settings.twilio_auth_token)
        sender = str(settings.twilio_whatsapp_from)
        hosts = dict(TWILIO_HOSTS)
        if settings.twilio_api_url:
            hosts = {name: settings.twilio_api_url.rstrip("/") for name in hosts}
        credentials = httpx.BasicAuth(sid, auth)
        shown_sid = sid[:2] + "…" + sid[-4:]
        try:
            account = await http.get(
                f"{hosts['api']}/2010-04-01/Accounts/{sid}.json", auth=credentials
            )
        except httpx.HTTPError as error:
            return [
                Check(
                    FAIL,
                    f"Twilio: did not answer ({type(error).__name__})",
                    "check that this machine reaches api.twilio.com "
                    "(`curl -sI https://api.twilio.com`): DNS, a firewall or a proxy.",
                )
            ]
        self._saw_date("Twilio", account)
        if account.status_code in (401, 403, 404):
            return [
                Check(
                    FAIL,
                    f"Twilio credentials: Twilio refused account {shown_sid} with this auth token",
                    "in console.twilio.com, open Account → API keys & tokens and copy the "
                    "Account SID (AC…) into JAMAAH_TWILIO_ACCOUNT_SID and the Auth token into "
                    "JAMAAH_TWILIO_AUTH_TOKEN (a rotated token stops working at once); then "
                    "restart the bot.",
                )
            ]
        status = str(_json(account).get("status") or "")
        if not account.is_success or status not in ("", "active"):
            return [
                Check(
                    FAIL,
                    f"Twilio credentials: account {shown_sid} is {status or account.status_code}",
                    "sign in at console.twilio.com: a suspended account needs its balance "
                    "topped up or Twilio support; nothing can be sent until it is active.",
                )
            ]
        checks = [Check(OK, f"Twilio credentials: account {shown_sid} is active")]
        checks.append(await self._sender(http, hosts, credentials, sender))
        try:
            templates = parse_templates(settings.twilio_templates)
        except SettingsError as error:
            checks.append(
                Check(
                    FAIL,
                    f"WhatsApp templates: {error}",
                    "write JAMAAH_TWILIO_TEMPLATES as one line of JSON, "
                    '{"reminder": {"sid": "HX…", "vars": ["name", "goal"]}, …} (README, '
                    '"The 24-hour window and templates").',
                )
            )
            return checks
        if not templates:
            checks.append(
                Check(
                    WARN,
                    "WhatsApp templates: none configured, so outside the 24-hour window "
                    "unlocks, reminders and broadcasts are held",
                    "create them in Twilio's Content Template Builder, get them approved and "
                    'list them in JAMAAH_TWILIO_TEMPLATES (README, "The 24-hour window and '
                    'templates").',
                )
            )
        for kind, template in templates.items():
            checks.append(await self._template(http, hosts["content"], credentials, kind, template))
        return checks

    async def _sender(
        self, http: httpx.AsyncClient, hosts: dict[str, str], auth: httpx.BasicAuth, sender: str
    ) -> Check:
        try:
            number = normalise_phone(sender.removeprefix("whatsapp:"))
        except PhoneError:
            return Check(
                FAIL,
                f"WhatsApp sender: JAMAAH_TWILIO_WHATSAPP_FROM {sender!r} is not a phone number",
                "give the WhatsApp sender's number as whatsapp:+62… (Twilio console → "
                "Messaging → Senders → WhatsApp senders).",
            )
        if number == SANDBOX:
            return Check(
                WARN,
                f"WhatsApp sender: {number} is Twilio's sandbox, for trying out only",
                "each phone must first send the sandbox's 'join …' words; before a cohort "
                "starts, register a WhatsApp sender and put its number in "
                "JAMAAH_TWILIO_WHATSAPP_FROM (README, WhatsApp, Production).",
            )
        response: httpx.Response | None = None
        try:
            response = await http.get(
                f"{hosts['messaging']}/v2/Channels/Senders",
                params={"Channel": "whatsapp", "PageSize": "1000"},
                auth=auth,
            )
            reason = f"HTTP {response.status_code}"
        except httpx.HTTPError as error:
            reason = type(error).__name__
        if response is None or not response.is_success:
            return Check(
                WARN,
                f"WhatsApp sender: could not list the account's WhatsApp senders ({reason})",
                f"check in Twilio's console (Messaging → Senders → WhatsApp senders) that "
                f"{number} is listed and Online.",
            )
        senders = _json(response).get("senders") or []
        found = next(
            (s for s in senders if str(s.get("sender_id", "")) == f"whatsapp:{number}"), None
        )
        if found is None:
            return Check(
                FAIL,
                f"WhatsApp sender: {number} is not a WhatsApp sender of this Twilio account",
                "register it (Messaging → Senders → WhatsApp senders) or put the number "
                "of a registered sender in JAMAAH_TWILIO_WHATSAPP_FROM.",
            )
        state = str(found.get("status") or "")
        if state.upper() != "ONLINE":
            return Check(
                FAIL,
                f"WhatsApp sender: {number} is {state or 'not online'}",
                "open it in Twilio's console (Messaging → Senders → WhatsApp senders): Meta "
                "may still be reviewing it, or it needs an action there.",
            )
        return Check(OK, f"WhatsApp sender: {number}, online")

    async def _template(
        self, http: httpx.AsyncClient, base: str, auth: httpx.BasicAuth, kind: str, template: Any
    ) -> Check:
        name = f"WhatsApp template {kind!r} ({template.sid})"
        try:
            content = await http.get(f"{base}/v1/Content/{template.sid}", auth=auth)
            approval = await http.get(
                f"{base}/v1/Content/{template.sid}/ApprovalRequests", auth=auth
            )
        except httpx.HTTPError as error:
            return Check(
                FAIL,
                f"{name}: Twilio did not answer ({type(error).__name__})",
                "check that this machine reaches content.twilio.com, then run the doctor again.",
            )
        if content.status_code == 404:
            return Check(
                FAIL,
                f"{name}: Twilio knows no template with this SID",
                "open Twilio's Content Template Builder, copy the template's SID (HX…) into "
                "JAMAAH_TWILIO_TEMPLATES, then restart the bot.",
            )
        if not content.is_success:
            return Check(
                FAIL,
                f"{name}: Twilio answered {content.status_code}",
                "try again in a few minutes; check the account in console.twilio.com.",
            )
        variables = _json(content).get("variables") or {}
        if isinstance(variables, dict) and len(variables) != len(template.vars):
            return Check(
                FAIL,
                f"{name}: the template has {len(variables)} variable(s), "
                f"JAMAAH_TWILIO_TEMPLATES gives {len(template.vars)}",
                f"make the 'vars' of {kind!r} in JAMAAH_TWILIO_TEMPLATES list one name per "
                "{{n}} of the template, in order (README, the table of kinds).",
            )
        whatsapp = (_json(approval).get("whatsapp") or {}) if approval.is_success else {}
        state = str(whatsapp.get("status") or "unsubmitted").lower()
        if state == "approved":
            return Check(OK, f"{name}: approved by WhatsApp")
        if state == "rejected":
            reason = str(whatsapp.get("rejection_reason") or "no reason given")[:160]
            return Check(
                FAIL,
                f"{name}: rejected by WhatsApp ({reason})",
                "change the text as the reason says, as a new template, submit it for "
                "approval and put its SID in JAMAAH_TWILIO_TEMPLATES; until then this kind "
                "is held outside the 24-hour window.",
            )
        if state == "unsubmitted":
            return Check(
                FAIL,
                f"{name}: not submitted for WhatsApp approval",
                "in the Content Template Builder, open it and submit it for WhatsApp "
                "approval (category Utility); until it is approved this kind is held "
                "outside the 24-hour window.",
            )
        return Check(
            FAIL,
            f"{name}: not approved yet ({state})",
            "wait for WhatsApp's review (minutes to two days) and run the doctor again; "
            "until then this kind is held outside the 24-hour window.",
        )

    # --- the public URL ---------------------------------------------------------------

    async def public_url(self, http: httpx.AsyncClient) -> list[Check]:
        settings = self.settings
        needed = webhook_mode(settings) or settings.whatsapp_enabled
        url = settings.public_url
        if not url:
            if needed:
                return [
                    Check(
                        FAIL,
                        "public URL: JAMAAH_PUBLIC_URL is not set, and WhatsApp needs it",
                        "set it to the https:// address the reverse proxy serves the bot at "
                        "(https://bot.example.org): Twilio's signatures are checked against "
                        "it and file links are built from it.",
                    )
                ]
            return [Check(OFF, "public URL: not configured (polling and the console need none)")]
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not local:
            return [
                Check(
                    FAIL,
                    f"public URL: {url} is not https://; Telegram and Twilio call only HTTPS",
                    "put a reverse proxy with a certificate in front of the bot (Caddy does it "
                    'by itself: README, "Deploying") and set JAMAAH_PUBLIC_URL to its '
                    "https:// address.",
                )
            ]
        health = url.rstrip("/") + "/healthz"
        try:
            response = await http.get(health, follow_redirects=True)
        except httpx.ConnectError as error:
            certificate = "CERTIFICATE" in str(error).upper() or "SSL" in str(error).upper()
            return [
                Check(
                    FAIL,
                    f"public URL: {health} "
                    + ("has no valid certificate" if certificate else "cannot be reached"),
                    f"renew the certificate, or check it names this address (`curl -v {health}`)."
                    if certificate
                    else "start the bot (`systemctl start jamaah` or `docker compose up -d`), "
                    "check that the name points at this server (DNS), that the firewall lets "
                    "port 443 in, and that the reverse proxy passes to JAMAAH_HOST:JAMAAH_PORT.",
                )
            ]
        except httpx.HTTPError as error:
            return [
                Check(
                    FAIL,
                    f"public URL: {health} did not answer ({type(error).__name__})",
                    "check that the bot and the reverse proxy run, then try again.",
                )
            ]
        if response.status_code != 200 or _json(response).get("ok") is not True:
            return [
                Check(
                    FAIL,
                    f"public URL: {health} answered {response.status_code}, not the bot's 'ok'",
                    "503 means the bot cannot reach its database (see the database line); "
                    "404 or 502 means the reverse proxy does not pass to the bot: check it "
                    "sends every path unchanged to JAMAAH_HOST:JAMAAH_PORT and that the bot "
                    "runs.",
                )
            ]
        if parts.scheme != "https":
            return [
                Check(
                    WARN,
                    f"public URL: {health} answers, but over http on this machine only",
                    "Telegram and Twilio need an https:// address reachable from outside.",
                )
            ]
        return [Check(OK, f"public URL: {health} answers over HTTPS")]

    # --- content and fonts -------------------------------------------------------------

    def content(self) -> list[Check]:
        try:
            content = load_checked_content()
        except ContentError as error:
            return [
                Check(
                    FAIL,
                    f"content: broken, so the bot will not start ({_first_line(error)})",
                    "run `jamaah content check` to see every problem; if the files under "
                    "content/ were edited by mistake, put the release's back.",
                )
            ]
        return [
            Check(
                OK,
                f"content: {len(content.flows)} flows and {len(content.program.weeks)} weeks, "
                "every message renders",
            )
        ]

    def fonts(self) -> list[Check]:
        bad = []
        for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
            path = FONT_DIR / name
            try:
                head = path.read_bytes()[:4]
            except OSError:
                bad.append(f"{name} missing")
                continue
            if head not in (b"\x00\x01\x00\x00", b"true", b"OTTO"):
                bad.append(f"{name} is not a font file")
        if bad:
            return [
                Check(
                    FAIL,
                    f"fonts: {', '.join(bad)} in {FONT_DIR}, so no business plan PDF can be made",
                    "install Jamaah again from its release (the fonts are part of it, in "
                    "content/fonts).",
                )
            ]
        try:
            pdf = FPDF()
            pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
            pdf.add_page()
            pdf.set_font("DejaVu", "", 10)
            pdf.cell(text="Rencana usaha: keripik singkong, Rp 15.000")
            pdf.output()
        except Exception as error:  # any failure to make a PDF is the finding
            return [
                Check(
                    FAIL,
                    f"fonts: a PDF cannot be made with them ({type(error).__name__})",
                    "install the Python packages again (`make .venv/.installed`, or rebuild "
                    "the container).",
                )
            ]
        return [Check(OK, "fonts: DejaVu Sans found, a PDF renders with it")]

    # --- clock and time zones -----------------------------------------------------------

    def clock(self) -> list[Check]:
        checks = []
        missing = []
        for zone in sorted(set(INDONESIAN_ZONES) | self.timezones):
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                missing.append(zone)
        if missing:
            checks.append(
                Check(
                    FAIL,
                    f"time zones: {', '.join(missing)} unknown to this machine",
                    "install the time-zone database (`apt install tzdata`, or `pip install "
                    "tzdata` in the bot's environment); a cohort's zone is an IANA name such "
                    "as Asia/Jakarta (`jamaah cohort list`).",
                )
            )
        else:
            local = ", ".join(
                f"{self.now.astimezone(zoneinfo.ZoneInfo(zone)):%H:%M} {zone.split('/')[1]}"
                for zone in INDONESIAN_ZONES
            )
            checks.append(Check(OK, f"time zones: known ({local})"))
        if not self.remote_dates:
            checks.append(
                Check(
                    OK,
                    f"clock: {self.now:%Y-%m-%d %H:%M} UTC (no channel configured to compare it "
                    "with)",
                )
            )
            return checks
        source, theirs = self.remote_dates[0]
        skew = (self.now - theirs).total_seconds()
        if abs(skew) > CLOCK_SKEW_S:
            way = "ahead of" if skew > 0 else "behind"
            checks.append(
                Check(
                    FAIL,
                    f"clock: this machine is {abs(skew) / 60:.0f} minute(s) {way} {source}'s "
                    "clock, so nudges go at the wrong time",
                    "turn on time synchronisation: `sudo timedatectl set-ntp true` (check "
                    "with `timedatectl`); in a container, fix the host's clock.",
                )
            )
        else:
            checks.append(
                Check(OK, f"clock: {self.now:%Y-%m-%d %H:%M} UTC, within a minute of {source}'s")
            )
        return checks

    # --- disk and backups ---------------------------------------------------------------

    def disk(self) -> list[Check]:
        places: list[tuple[str, Path]] = []
        if is_sqlite(self.url):
            places.append(("database", Path(make_url(self.url).database or ".").parent))
        backup_dir = self.settings.backup_dir
        if backup_dir is not None and backup_dir.is_dir():
            places.append(("backups", backup_dir))
        if not places:
            return [Check(OK, "disk: the database is on its server; no backup folder here")]
        checks = []
        seen: set[int] = set()
        for what, place in places:
            while not place.exists() and place != place.parent:
                place = place.parent  # a folder yet to be made: the disk it will be on
            try:
                device = place.stat().st_dev
                usage = shutil.disk_usage(place)
            except OSError as error:
                checks.append(Check(FAIL, f"disk: {place} cannot be read ({error.strerror})"))
                continue
            if device in seen:
                continue
            seen.add(device)
            needed = max(DISK_FAIL_BYTES, 2 * self.database_bytes)
            free = _size(usage.free)
            said = f"disk ({what}, {place}): {free} free of {_size(usage.total)}"
            fix = (
                "make room: remove old files in that disk's folders, old logs "
                "(`sudo journalctl --vacuum-size=200M`), or move the backups to another "
                "disk (JAMAAH_BACKUP_DIR); a backup needs about as much as the database "
                f"({_size(self.database_bytes)})."
            )
            if usage.free < needed:
                checks.append(Check(FAIL, said + ", too little", fix))
            elif usage.free < DISK_WARN_BYTES:
                checks.append(Check(WARN, said + ", getting low", fix))
            else:
                checks.append(Check(OK, said))
        return checks

    def backups(self) -> list[Check]:
        folder = self.settings.backup_dir
        if folder is None:
            return [
                Check(
                    WARN,
                    "backups: off (JAMAAH_BACKUP_DIR is not set), so a lost disk loses the "
                    "whole programme",
                    "set JAMAAH_BACKUP_DIR to a folder (better on another disk) and restart "
                    'the bot: it then makes a snapshot every night (README, "Backups").',
                )
            ]
        if not folder.is_dir():
            return [
                Check(
                    FAIL,
                    f"backups: the folder {folder} (JAMAAH_BACKUP_DIR) does not exist",
                    f"create it, writable by the user the bot runs as (`sudo install -d -o "
                    f"jamaah {folder}`), or correct JAMAAH_BACKUP_DIR.",
                )
            ]
        if not os.access(folder, os.W_OK | os.X_OK):
            return [
                Check(
                    FAIL,
                    f"backups: {folder} is not writable by this user",
                    f"give the user the bot runs as the folder (`sudo chown jamaah {folder}`).",
                )
            ]
        found = _newest(folder.glob("jamaah-*"))
        if found is None:
            return [
                Check(
                    FAIL,
                    f"backups: none in {folder} yet",
                    "run `jamaah backup` now; the bot makes one every night while it runs.",
                )
            ]
        path, modified = found
        age = self.now - modified
        said = f"{path.name}, {_age(age)} old, {_size(path.stat().st_size)}"
        if path.stat().st_size == 0:
            return [
                Check(
                    FAIL,
                    f"backups: the newest, {said}, is empty",
                    "run `jamaah backup` and read what it says; check the disk has room.",
                )
            ]
        if age > BACKUP_MAX_AGE:
            return [
                Check(
                    FAIL,
                    f"backups: the newest is {said}: the nightly backup has stopped",
                    "check that the bot runs (`systemctl status jamaah` or `docker compose "
                    "ps`) and look in its log for 'backup'; run `jamaah backup` now.",
                )
            ]
        return [Check(OK, f"backups: the newest is {said}")]


# --- helpers -------------------------------------------------------------------------


def _first_line(error: BaseException) -> str:
    said = str(error).strip().splitlines()
    return said[0][:160] if said else "no message"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _recent(when: Any, now: dt.datetime) -> bool:
    """A Telegram `last_error_date` (Unix time) of the last day."""
    try:
        moment = dt.datetime.fromtimestamp(int(when), dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return False
    return now - moment < dt.timedelta(days=1)


_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)


def _known_revisions() -> set[str]:
    """Every migration's revision this version of Jamaah has."""
    known = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = _REVISION.search(path.read_text(encoding="utf-8"))
        if found:
            known.add(found.group(1))
    return known


def _newest(paths: Iterable[Path]) -> tuple[Path, dt.datetime] | None:
    best: tuple[Path, dt.datetime] | None = None
    for path in paths:
        if not path.is_file():
            continue
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        if best is None or modified > best[1]:
            best = (path, modified)
    return best


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("B", "KB") else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"


def _age(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(0, round(hours * 60))} minute(s)"
    if hours < 48:
        return f"{hours:.0f} hour(s)"
    return f"{hours / 24:.0f} days"
