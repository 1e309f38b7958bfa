"""A person's rights over their data (UU 27/2022), by chat.

- /dataku (/mydata): what is kept about them, in their language, and on request a
  complete copy (a JSON file and a CSV sheet, sent as documents like the business plan);
- /hapus (/erase): asked twice (the second answer is the word shown), then everything
  about them is erased in the turn's one transaction (storage/personal.py); their
  facilitators hear that a participant left, without the reason;
- a new privacy text (content/program.yaml `privacy.version`): a participant who agreed
  to another version is asked again at their next message; a "no" leads to the erase's
  last confirmation.

Both commands work while messages are stopped (BERHENTI): the right to one's data does
not end with the messages. Staff records are erased by an admin (`jamaah person erase`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.core import dialog
from bot.core.commands import Command
from bot.core.deferred import deferred
from bot.core.dialog import Dialog, DialogState, ask, close
from bot.core.files import send_document
from bot.core.jobs import JobContext, TickStats
from bot.core.messages import ALERT
from bot.core.phones import mask_phone
from bot.core.roles import EVERYONE
from bot.core.turn import Turn, locale_of
from bot.documents.export import to_csv, to_xlsx
from content.model import PRIVACY_MESSAGE
from flows.answers import format_date
from storage import personal, repo
from storage import schedule_repo as sched

DATA, ERASE, CONSENT = "dataku", "hapus", "privasi"  # the dialogs' names
COPY_DAYS = 7  # how long the copy's files stay downloadable
JSON_TYPE, CSV_TYPE = "application/json", "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The word the second question shows, per language; either is accepted.
ERASE_WORDS = {"id": "HAPUS", "en": "ERASE"}


def _label(turn: Turn, key: str) -> str:
    return turn.content.renderer.render(f"privacy.{key}", turn.locale, {}, "plain")


def _speak_while_stopped(turn: Turn) -> None:
    """A contact that sent BERHENTI still gets the answers about its own data."""
    if turn.identity.opted_out:
        turn.to_opted_out = True


async def _kind_of(turn: Turn) -> str:
    """participant (or someone with answers kept), staff, or stranger."""
    if turn.joined:
        return "participant"
    roles = await repo.roles_of(turn.conn, person_id=turn.person_id)
    if roles:
        return "staff"
    if await turn.answers() or turn.identity.name:
        return "participant"  # pre-registered by an import, or halfway through joining
    return "stranger"


# --- /dataku -------------------------------------------------------------------------------


async def my_data(turn: Turn, args: str) -> None:
    """/dataku: what is kept, who sees it, how long; then the offer of a complete copy."""
    _speak_while_stopped(turn)
    kind = await _kind_of(turn)
    if kind == "stranger":
        await turn.say("privacy.nothing_kept")
        await turn.repeat_question()
        return
    found = await personal.summary(turn.conn, person_id=turn.person_id)
    locale = turn.locale
    await turn.say(
        "privacy.summary",
        {
            "staff": kind == "staff",
            "person_name": found.name or "",
            "person_village": found.village or "",
            "cohorts": ", ".join(found.cohorts),
            "contacts": ", ".join(
                f"{channel} {mask_phone(address)}" for channel, address in found.addresses
            ),
            "consent_date": format_date(found.consent_at.date(), locale)
            if found.consent_at
            else "",
            "consent_version": found.consent_version or "",
            "weeks_done": found.weeks_done,
            "answer_count": found.answers,
            "checkin_notes": found.checkin_notes,
            "photos": found.photos,
            "queued": found.queued,
        },
    )
    state = await dialog.open_dialog(turn, DATA, "offer")
    await ask(
        turn,
        state,
        "privacy.copy_offer",
        {},
        [("copy", _label(turn, "button.copy")), ("no", _label(turn, "button.no_thanks"))],
    )


async def send_copy(turn: Turn) -> None:
    """The complete copy: every row about the person, as JSON and as a CSV sheet (as a
    workbook on a channel that takes neither, such as WhatsApp)."""
    found = await personal.collect(turn.conn, person_id=turn.person_id)
    day = turn.local_now.date().isoformat()
    sheet_rows = personal.copy_rows(found)
    allowed = turn.capabilities.document_types
    files: list[tuple[str, str, str, bytes]] = []
    if allowed is None or JSON_TYPE in allowed:
        data = personal.copy_json(found, made_at=turn.now)
        files.append(("copy_json", f"dataku-{day}.json", JSON_TYPE, data))
    if allowed is None or CSV_TYPE in allowed:
        data = to_csv(personal.COPY_HEADER, sheet_rows)
        files.append(("copy_csv", f"dataku-{day}.csv", CSV_TYPE, data))
    if not files:  # WhatsApp: the same rows as a workbook, the one kind it delivers
        data = to_xlsx([("dataku", personal.COPY_HEADER, sheet_rows)])
        files = [("copy_xlsx", f"dataku-{day}.xlsx", XLSX_TYPE, data)]
    renderer, locale, markup = turn.content.renderer, turn.locale, turn.capabilities.markup
    rows = sum(len(v) for v in found.values())
    await turn.say("privacy.copy_made", {"rows": rows, "tables": len(found), "days": COPY_DAYS})
    for key, filename, content_type, data in files:
        await send_document(
            turn,
            caption=renderer.render(f"privacy.{key}", locale, {}, markup),
            filename=filename,
            content_type=content_type,
            data=data,
            expires_at=turn.now + dt.timedelta(days=COPY_DAYS),
        )
    await repo.audit(
        turn.conn,
        actor=f"person:{turn.person_id}",
        action="person.export",
        target=f"person:{turn.person_id}",
        details={"rows": rows, "by": "self"},
        now=turn.now,
    )


class DataDialog(Dialog):
    """After /dataku's summary: the copy, or not."""

    name = DATA
    while_stopped = True

    def takes_text(self, step: str) -> bool:
        return True  # its own text() answers, in the participant's words

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        _speak_while_stopped(turn)
        await close(turn)
        if value == "copy":
            await send_copy(turn)
        else:
            await turn.say("privacy.copy_declined")
        await turn.repeat_question()

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        _speak_while_stopped(turn)
        await turn.say("privacy.use_buttons")
        await dialog.repeat(turn, state)


# --- /hapus --------------------------------------------------------------------------------


async def erase(turn: Turn, args: str) -> None:
    """/hapus: the first of two questions before everything about the person is erased."""
    _speak_while_stopped(turn)
    kind = await _kind_of(turn)
    if kind == "staff":
        await turn.say("privacy.staff_erase")
        return
    if kind == "stranger":
        await turn.say("privacy.nothing_kept")
        await turn.repeat_question()
        return
    await ask_erase(turn)


async def ask_erase(turn: Turn) -> None:
    state = await dialog.open_dialog(turn, ERASE, "sure")
    await ask(
        turn,
        state,
        "privacy.erase_sure",
        {},
        [("yes", _label(turn, "button.erase")), ("no", _label(turn, "button.keep"))],
    )


async def ask_word(turn: Turn, state: DialogState) -> None:
    state.step = "word"
    await ask(turn, state, "privacy.erase_word", {"word": ERASE_WORDS[turn.locale]})


async def erase_now(turn: Turn) -> None:
    """Erase everything about the person; the goodbye is the last message to them."""
    cohort_name = turn.identity.cohort_name or ""
    locale = turn.locale
    done = await personal.erase(
        turn.conn,
        person_id=turn.person_id,
        now=turn.now,
        keep_contact_id=turn.identity.contact_id,
    )
    await repo.audit(
        turn.conn,
        actor=personal.ERASED_ACTOR,
        action="person.erase",
        details={"by": "self", "cohorts": len(done.cohort_ids)},
        now=turn.now,
    )
    await _tell_facilitators(turn, done)
    turn._answers = {}
    turn.update_identity(
        name=None,
        village=None,
        cohort_id=None,
        cohort_name=None,
        session_flow=None,
        session_step=None,
        session_state=None,
        dialog=None,
    )
    turn.to_opted_out = True  # the goodbye goes even to a contact that had stopped
    await turn.say("privacy.erased", {"cohort_name": cohort_name, "word": ERASE_WORDS[locale]})


async def _tell_facilitators(turn: Turn, done: personal.Erased) -> None:
    """One line to each facilitator of the cohorts left: a participant left (no name,
    no reason), and how many the cohort has now."""
    if not done.facilitator_ids:
        return
    contacts = await sched.person_contacts(turn.conn, person_ids=done.facilitator_ids)
    cohorts = {
        c.id: c
        for c in [await repo.get_cohort(turn.conn, cohort_id=i) for i in done.cohort_ids]
        if c
    }
    names = ", ".join(c.name for c in cohorts.values())
    left = {i: await repo.count_members(turn.conn, cohort_id=i) for i in cohorts}
    rows = []
    for person in contacts:
        if person.opted_out or person.unreachable:
            continue
        locale = locale_of(person.language)
        params: dict[str, Any] = {"cohort_name": names, "participants": sum(left.values())}
        rows.append(
            {
                "contact_id": person.contact_id,
                "payload": deferred("privacy.participant_left", locale, params, ALERT),
                "priority": repo.PRIORITY_NUDGE,
                "dedupe_key": None,
                "kind": ALERT,
            }
        )
    if rows:
        await repo.enqueue(turn.conn, rows=rows, now=turn.now)


def _typed_word(text: str) -> str:
    return text.strip().strip(".!\"'").upper()


class EraseDialog(Dialog):
    """/hapus's two questions: are you sure (buttons), then type the word shown."""

    name = ERASE
    while_stopped = True

    def takes_text(self, step: str) -> bool:
        return True  # its own text() answers, in the participant's words

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        _speak_while_stopped(turn)
        if step == "sure" and value == "yes":
            await ask_word(turn, state)
            return
        await close(turn)
        await turn.say("privacy.erase_cancelled")
        await turn.repeat_question()

    def claims(self, step: str, text: str) -> bool:
        return step == "word" and _typed_word(text) in ERASE_WORDS.values()

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        _speak_while_stopped(turn)
        if state.step == "word":
            await close(turn)
            if _typed_word(text) in ERASE_WORDS.values():
                await erase_now(turn)
                return
            await turn.say("privacy.erase_wrong_word", {"word": ERASE_WORDS[turn.locale]})
            await turn.repeat_question()
            return
        await turn.say("privacy.use_buttons")
        await dialog.repeat(turn, state)


# --- a new privacy text -----------------------------------------------------------------------


async def ask_consent_again(turn: Turn) -> bool:
    """A participant who agreed to another version of the privacy text is asked to agree
    to this one before anything else (True when this message was that question)."""
    privacy = turn.content.program.privacy
    ident = turn.identity
    if (
        privacy is None
        or not turn.joined
        or ident.consent_at is None
        or ident.consent_version == privacy.version
        or ident.dialog in (CONSENT, ERASE)
    ):
        return False
    _speak_while_stopped(turn)
    await turn.say("privacy.changed")
    state = await dialog.open_dialog(turn, CONSENT, "agree")
    await ask(
        turn,
        state,
        PRIVACY_MESSAGE,
        {},
        [("yes", _label(turn, "button.agree")), ("no", _label(turn, "button.disagree"))],
    )
    return True


class ConsentDialog(Dialog):
    """The new privacy text's question: yes keeps going, no leads to the erase's word."""

    name = CONSENT
    while_stopped = True

    def takes_text(self, step: str) -> bool:
        return True  # its own text() answers, in the participant's words

    async def button(self, turn: Turn, state: DialogState, step: str, value: str) -> None:
        _speak_while_stopped(turn)
        privacy = turn.content.program.privacy
        if value == "yes" and privacy is not None:
            await close(turn)
            await repo.update_person(
                turn.conn,
                person_id=turn.person_id,
                consent_at=turn.now,
                consent_version=privacy.version,
            )
            turn.update_identity(consent_at=turn.now, consent_version=privacy.version)
            await turn.say("privacy.agreed")
            await turn.repeat_question()
            return
        await close(turn)
        await turn.say("privacy.disagreed")
        erase_state = await dialog.open_dialog(turn, ERASE, "word")
        await ask_word(turn, erase_state)

    async def text(self, turn: Turn, state: DialogState, text: str) -> None:
        _speak_while_stopped(turn)
        await turn.say("privacy.use_buttons")
        await dialog.repeat(turn, state)


# --- the job -----------------------------------------------------------------------------


async def forget_addresses_job(context: JobContext, now: dt.datetime) -> TickStats:
    """The address of an erased person goes once their goodbye has been sent."""
    async with context.db.begin() as conn:
        await personal.forget_addresses(conn)
    return TickStats()


COMMANDS: tuple[Command, ...] = (
    Command("dataku", ("mydata",), my_data, EVERYONE, while_stopped=True),
    Command("hapus", ("erase",), erase, EVERYONE, while_stopped=True),
)
