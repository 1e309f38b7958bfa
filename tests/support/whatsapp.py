"""Talking to the bot on WhatsApp in tests: the fake Twilio, the webhook, and what was sent."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select

from bot.app import App
from bot.channels import whatsapp
from bot.core.config import Settings
from bot.core.messages import OutboundMessage
from storage import repo
from storage.models import Contact, Outbox
from tests.support.fakes.twilio_api import FakeTwilio, Sent
from tests.support.world import JOIN_CODE

ACCOUNT = "AC" + "a1" * 16


TOKEN = "fake-auth-token"


SENDER = "whatsapp:+14155238886"


SITI = "+6281234567890"


TEMPLATES = {
    "reminder": {"sid": "HX" + "11" * 16, "vars": ["name", "goal"]},
    "unlock": {"sid": "HX" + "22" * 16, "vars": ["name", "week", "title"]},
}


@dataclass
class WhatsApp:
    app: App
    fake: FakeTwilio
    web: whatsapp.WhatsAppWeb
    url: str  # the app's public URL

    async def say(self, phone: str, text: str = "", **kwargs: object) -> list[Sent]:
        """One message from `phone`; returns what the bot sent back to it."""
        before = len(self.fake.to(phone))
        response = await self.fake.inbound(phone, text, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        assert "<Response/>" in response.text
        await self.web.settle()
        await self.app.sender.drain()
        return self.fake.to(phone)[before:]

    async def step(self, phone: str) -> str | None:
        async with self.app.db.connect() as conn:
            ident = await repo.find_identity(conn, channel="whatsapp", address=phone)
        return f"{ident.session_flow}/{ident.session_step}" if ident else None

    async def outbox(self) -> list[Outbox]:
        async with self.app.db.connect() as conn:
            return list((await conn.execute(select(Outbox).order_by(Outbox.id))).all())  # type: ignore[arg-type]

    async def contact(self, phone: str) -> Contact:
        async with self.app.db.connect() as conn:
            row = (
                await conn.execute(
                    select(Contact).where(Contact.channel == "whatsapp", Contact.address == phone)
                )
            ).one()
            return row  # type: ignore[return-value]

    async def queue(self, phone: str, message: OutboundMessage) -> int:
        """A message the scheduler would queue (a nudge, a broadcast) for `phone`."""
        contact = await self.contact(phone)
        async with self.app.db.begin() as conn:
            await repo.enqueue(
                conn,
                rows=[
                    {
                        "contact_id": contact.id,
                        "payload": message.to_payload(),
                        "priority": repo.PRIORITY_NUDGE,
                    }
                ],
                now=self.app.clock.now(),
            )
            return int(
                (await conn.execute(select(Outbox.id).order_by(Outbox.id.desc()))).scalars().first()
                or 0
            )


def settings_for(app_url: str, twilio_url: str, **more: object) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        twilio_account_sid=ACCOUNT,
        twilio_auth_token=TOKEN,
        twilio_whatsapp_from=SENDER,
        twilio_api_url=twilio_url,
        public_url=app_url,
        twilio_templates=json.dumps(TEMPLATES),
        **more,
    )


def texts(sent: list[Sent]) -> str:
    return "\n---\n".join(s.body or "" for s in sent)


async def join(wa: WhatsApp, phone: str = SITI, name: str = "Siti Aminah") -> None:
    await wa.say(phone, f"GABUNG {JOIN_CODE}")
    await wa.say(phone, "1")
    await wa.say(phone, name)
    await wa.say(phone, "Dusun Tritis")
