"""SQLAlchemy 2 models: the system of record (DESIGN.md, "Data").

Times are stored in UTC. SQLite keeps no time zone, so `UTCDateTime` stores naive UTC
and hands back aware UTC datetimes on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime, stored without a zone."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes only")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - SQLite returns datetime already
            value = dt.datetime.fromisoformat(value)
        return cast(dt.datetime, value).replace(tzinfo=dt.UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Ids are BIGINT on PostgreSQL and INTEGER (the rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Cohort(Base):
    __tablename__ = "cohorts"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(200), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    start_date: Mapped[dt.date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(8), default="id")
    meeting_day: Mapped[str | None] = mapped_column(String(16))
    quiet_start: Mapped[str] = mapped_column(String(5), default="21:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="06:00")
    capacity: Mapped[int] = mapped_column(Integer, default=25)
    join_code: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    meeting_time: Mapped[str | None] = mapped_column(String(5))  # "16:00", local
    # When the scheduler next has something to do for this cohort (unlock, meeting
    # reminder, digest): a tick reads only the cohorts whose moment has come.
    next_tick_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    # The cohort's pauses (Ramadan, Lebaran, the harvest), in order (0008): a list of
    # {"id", "first", "last", "reason"}, dates local; None when it has none.
    pauses: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(120))
    village: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(8), default="id")
    consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The privacy text's version they agreed to (content/program.yaml `privacy`; 0007).
    consent_version: Mapped[str | None] = mapped_column(String(32))
    # Their data was erased (/hapus): this row holds nothing about them any more (0007).
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("channel", "address"),
        # /progres: who wrote lately, per person, read from the index alone.
        Index("ix_contacts_person_last_inbound", "person_id", "last_inbound_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Membership(Base):
    """A role held by a person: in a cohort (participant, facilitator) or a region."""

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("person_id", "cohort_id", "role"),
        Index("ix_memberships_cohort_role", "cohort_id", "role"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class FlowSession(Base):
    """Where a person is in a conversation flow; one current session per person."""

    __tablename__ = "flow_sessions"
    __table_args__ = (Index("ix_flow_sessions_silence", "nudge_stage", "updated_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # How far the silence ladder has gone since the person last moved this session on
    # (0: nothing sent, 1: first reminder, 2: second, 3: the facilitator alerted).
    nudge_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("person_id", "key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)
    display: Mapped[dict[str, str]] = mapped_column(JSON)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Progress(Base):
    __tablename__ = "progress"
    __table_args__ = (
        UniqueConstraint("person_id", "cohort_id", "week"),
        # /progres: weeks finished per cohort (and per week), read from the index alone.
        Index("ix_progress_cohort_status_week", "cohort_id", "status", "week"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    week: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # open, done
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class InboundLog(Base):
    """Every inbound message's (channel, external id): a redelivery is processed once."""

    __tablename__ = "inbound_log"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Outbox(Base):
    """Messages waiting to go out, claimed by the sender, then marked."""

    __tablename__ = "outbox"
    __table_args__ = (
        # What is due, in claim order: a claim walks it and stops at its LIMIT.
        Index("ix_outbox_claim", "status", "priority", "id", "next_attempt_at"),
        Index("ix_outbox_external_id", "external_id"),
        Index("ix_outbox_chat_order", "contact_id", "status", "id"),  # one chat in order
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer)  # 0 reply, 1 nudge, 2 broadcast
    status: Mapped[str] = mapped_column(String(16))  # pending, sending, sent, failed, skipped, held
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    external_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # reply, unlock, reminder, meeting, digest, alert, broadcast (bot/core/messages.py)
    kind: Mapped[str] = mapped_column(String(16), default="reply", server_default="reply")
    # What the channel reported later (WhatsApp status callbacks): delivered, read,
    # undelivered, failed; with the channel's error code when there is one.
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(16))
    # The facilitator broadcast this row belongs to, if any (/siaran status counts by it).
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), index=True
    )


class Nudge(Base):
    """A scheduled message the scheduler decided to send; the key makes it happen once."""

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_cohort_kind", "cohort_id", "kind"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # kind:week:person or cohort
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    week: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, held


class Document(Base):
    """A file the bot made or received (the business-plan PDF, a photo's reference).

    Served to channels that fetch media by URL under an unguessable, expiring token.
    """

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    ref: Mapped[str | None] = mapped_column(String(500))  # a channel's file id or URL
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    actor: Mapped[str] = mapped_column(String(120))  # "person:12", "cli"
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class SystemState(Base):
    """Small named values the system keeps, such as the simulated clock."""

    __tablename__ = "system_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


# --- staff tools -----------------------------------------------------------


class Dialog(Base):
    """A staff member's open multi-step chat dialog (/siaran, /checkin, /tinjau, ...).

    Kept apart from `flow_sessions` (the programme's flows) so that the silence ladder
    never sees it and a content update never drops it. One open dialog per person.
    """

    __tablename__ = "dialogs"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(32))  # "siaran", "checkin", ...
    step: Mapped[str] = mapped_column(String(32))
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Invite(Base):
    """A one-time code that makes whoever sends it a staff member (`jamaah staff invite`)."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # facilitator, coordinator, admin
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    region: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))  # "cli" or "person:12"
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Broadcast(Base):
    """A facilitator's message to their cohort(s): drafted, confirmed, queued or scheduled."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_due", "status", "scheduled_at"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    cohort_ids: Mapped[list[int]] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(String(16))  # all, cohort, behind
    text: Mapped[str] = mapped_column(Text)
    media_token: Mapped[str | None] = mapped_column(String(64))  # a documents.token (photo)
    # scheduled (waiting for scheduled_at), queued (outbox rows written), cancelled
    status: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # The audience left out when it was queued: opted out or unreachable (migration 0004).
    not_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The channel the photo came in on: a photo kept only as that channel's file id can
    # go only to recipients on the same channel (migration 0004).
    media_channel: Mapped[str | None] = mapped_column(String(16))
    # Unique per confirmation: a second tap on "confirm" finds it and queues nothing.
    confirm_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Checkin(Base):
    """A facilitator's log of a weekly meeting, or of a visit or call to one participant."""

    __tablename__ = "checkins"
    __table_args__ = (
        Index("ix_checkins_cohort_at", "cohort_id", "at"),
        Index("ix_checkins_follow_up", "follow_up_on", "follow_up_sent"),
        # /progres: each facilitator's last check-in per cohort.
        Index("ix_checkins_cohort_facilitator_at", "cohort_id", "facilitator_id", "at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    facilitator_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # meeting, visit, call
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when it happened
    attendance: Mapped[list[int]] = mapped_column(JSON, default=list)  # person ids present
    note: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1-5, visits and calls
    follow_up_on: Mapped[dt.date | None] = mapped_column(Date)
    follow_up_sent: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    photo_token: Mapped[str | None] = mapped_column(String(64))  # a documents.token
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Review(Base):
    """A facilitator's decision on an artefact a participant submitted (product, plan, permits)."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("person_id", "artefact"),
        Index("ix_reviews_cohort_status", "cohort_id", "status"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    artefact: Mapped[str] = mapped_column(String(16))  # product, plan, permits
    status: Mapped[str] = mapped_column(String(16))  # submitted, approved, returned
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CohortTally(Base):
    """A cohort's progress figures for /progres, kept up to date as they change.

    Derived data (storage/tallies.py): worked out again from progress and answers, for
    the whole cohort, in the same transaction as every write that changes them, so that
    /progres over a thousand cohorts reads a thousand rows instead of every answer.
    """

    __tablename__ = "cohort_tallies"
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    weeks_done: Mapped[int] = mapped_column(Integer, default=0)  # finished weeks, all people
    finished: Mapped[list[int]] = mapped_column(JSON, default=list)  # per week 1..16
    product: Mapped[int] = mapped_column(Integer, default=0)  # people who chose a product
    permit_filed: Mapped[int] = mapped_column(Integer, default=0)
    first_sales: Mapped[int] = mapped_column(Integer, default=0)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Holiday(Base):
    """A holiday an admin added for a region (a path prefix, "" for everywhere) or for
    one cohort, on top of the national list in content/holidays.yaml (0008)."""

    __tablename__ = "holidays"
    __table_args__ = (UniqueConstraint("day", "region", "cohort_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(200), default="")
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class MeetingDecision(Base):
    """Whether a cohort's meeting on a holiday still happens, as its facilitator said (0008)."""

    __tablename__ = "meeting_decisions"
    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    held: Mapped[bool] = mapped_column(Boolean)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
