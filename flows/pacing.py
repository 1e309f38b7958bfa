"""The cohort calendar and what is due when: pure functions of state and time.

A cohort starts on its start date; week N's module unlocks on day 7·(N−1) at the
cohort's local unlock time (07:00 by default). A participant works at their own pace
behind the calendar, never ahead of it. Silence inside an open task climbs a ladder:
a reminder after 2 days, a different one after 5, then no more reminders to the
participant but an alert to the facilitator after 7. Meetings are announced the
evening before and the morning of the meeting day; facilitators get a weekly digest.

Nothing is sent in quiet hours (21:00–06:00 local by default): a nudge waits for the
next allowed time. A nudge whose moment has passed by more than a day (the bot was
down, say) is replaced by the next one rather than sent late in a burst.

A cohort's clock can pause (Ramadan, Lebaran, the harvest): a pause covers whole local
days, from its first day to its last. Inside it no week opens, no reminder, alert,
meeting reminder or digest goes out, and silence does not count; every week that would
have opened on or after its first day opens its length later. The one message a pause
sends itself is its own: at its start and on its last day (PAUSE_START, PAUSE_END).
A meeting that falls on a holiday is not announced to the participants: the evening
before, the facilitator is asked whether it still happens (HOLIDAY_CHECK).

All times given and returned are aware; stored times are UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

WEEKS = 16
# The zone of people not yet in a cohort, and of a new cohort unless told otherwise.
DEFAULT_TIMEZONE = "Asia/Jakarta"
DAY_NAMES = ("senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu")  # Monday first

# Kinds of scheduled message (the values match bot/core/messages.py).
UNLOCK, REMINDER, ALERT, MEETING, DIGEST = "unlock", "reminder", "alert", "meeting", "digest"
PAUSE = "pause"  # a pause's own messages: its start and its end (Event.detail)
HOLIDAY_CHECK = "holiday_check"  # asks the facilitator: does a meeting on a holiday happen?
LONGEST_PAUSE = dt.timedelta(weeks=8)
PAUSE_END_AT = dt.time(18, 0)  # the last day of a pause: "tomorrow we carry on"


class ScheduleError(ValueError):
    """A schedule setting in program.yaml is not understood."""


@dataclass(frozen=True)
class Schedule:
    """When nudges go out; from program.yaml's `schedule:` (every field optional)."""

    unlock_at: dt.time = dt.time(7, 0)
    reminders_after: tuple[dt.timedelta, ...] = (dt.timedelta(days=2), dt.timedelta(days=5))
    alert_after: dt.timedelta = dt.timedelta(days=7)
    meeting_evening_at: dt.time | None = dt.time(19, 0)  # the evening before; None: off
    meeting_morning_at: dt.time | None = dt.time(7, 0)  # the morning of; None: off
    digest_day: int | None = 6  # Monday 0 … Sunday 6; None: no digest
    digest_at: dt.time = dt.time(18, 0)
    late_after: dt.timedelta = dt.timedelta(days=1)  # later than this: replaced, not sent
    unlock: bool = True
    reminders: bool = True
    alerts: bool = True

    @property
    def ladder(self) -> tuple[tuple[dt.timedelta, str], ...]:
        """(silence, kind) for each rung: reminders to the person, then the alert."""
        rungs: list[tuple[dt.timedelta, str]] = []
        if self.reminders:
            rungs += [(after, REMINDER) for after in self.reminders_after]
        if self.alerts:
            rungs.append((self.alert_after, ALERT))
        return tuple(rungs)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Schedule:
        """Read program.yaml's `schedule:` section; unknown keys are refused."""
        if not data:
            return cls()
        if not isinstance(data, Mapping):
            raise ScheduleError("schedule must be a mapping")
        known = {"unlock", "reminders", "meeting", "digest", "late_after_hours"}
        extra = set(data) - known
        if extra:
            raise ScheduleError(f"schedule: unknown key(s) {', '.join(sorted(map(str, extra)))}")
        values: dict[str, Any] = {}
        unlock = data.get("unlock") or {}
        if "enabled" in unlock:
            values["unlock"] = bool(unlock["enabled"])
        if "at" in unlock:
            values["unlock_at"] = parse_time(unlock["at"], "schedule.unlock.at")
        reminders = data.get("reminders") or {}
        if "enabled" in reminders:
            values["reminders"] = bool(reminders["enabled"])
        if "after_days" in reminders:
            days = reminders["after_days"]
            if not isinstance(days, list) or not all(_positive(d) for d in days):
                raise ScheduleError("schedule.reminders.after_days must list positive numbers")
            values["reminders_after"] = tuple(dt.timedelta(days=float(d)) for d in sorted(days))
        if "alert_after_days" in reminders:
            if not _positive(reminders["alert_after_days"]):
                raise ScheduleError("schedule.reminders.alert_after_days must be positive")
            values["alert_after"] = dt.timedelta(days=float(reminders["alert_after_days"]))
        if "alert" in reminders:
            values["alerts"] = bool(reminders["alert"])
        meeting = data.get("meeting") or {}
        for key, name in (
            ("evening_before", "meeting_evening_at"),
            ("morning_of", "meeting_morning_at"),
        ):
            if key in meeting:
                raw = meeting[key]
                values[name] = (
                    None if raw in (None, False) else parse_time(raw, f"schedule.meeting.{key}")
                )
        digest = data.get("digest") or {}
        if "day" in digest:
            day = digest["day"]
            if day in (None, False):
                values["digest_day"] = None
            elif day in DAY_NAMES:
                values["digest_day"] = DAY_NAMES.index(day)
            else:
                raise ScheduleError(f"schedule.digest.day must be one of {', '.join(DAY_NAMES)}")
        if "at" in digest:
            values["digest_at"] = parse_time(digest["at"], "schedule.digest.at")
        if "late_after_hours" in data:
            if not _positive(data["late_after_hours"]):
                raise ScheduleError("schedule.late_after_hours must be positive")
            values["late_after"] = dt.timedelta(hours=float(data["late_after_hours"]))
        schedule = cls(**values)
        late_alert = (
            schedule.reminders_after and schedule.alert_after <= schedule.reminders_after[-1]
        )
        if schedule.reminders and schedule.alerts and late_alert:
            raise ScheduleError("schedule: the alert must come after the last reminder")
        return schedule


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def parse_time(value: Any, where: str = "time") -> dt.time:
    """'07:00' (or 7:00) as a time; YAML may also hand over minutes since midnight."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        return dt.time(value // 60, value % 60)  # YAML 1.1 reads 07:00 as 420
    try:
        hours, minutes = str(value).strip().split(":")
        return dt.time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise ScheduleError(f"{where}: {value!r} is not a time like 07:00") from None


@dataclass(frozen=True, order=True)
class Pause:
    """The cohort's clock stands still from `first` to `last` (local days, both paused)."""

    first: dt.date
    last: dt.date
    reason: str = field(default="", compare=False)
    id: int = field(default=0, compare=False)

    @property
    def length(self) -> dt.timedelta:
        return self.last - self.first + dt.timedelta(days=1)

    def covers(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


class PauseError(ValueError):
    """A pause that cannot be: the reason is the message's key under `pause.refused.*`."""

    def __init__(self, reason: str, other: Pause | None = None) -> None:
        super().__init__(reason)
        self.reason, self.other = reason, other


def check_pause(
    pause: Pause, pauses: tuple[Pause, ...], *, today: dt.date, start: dt.date, end: dt.date
) -> None:
    """Refuse a pause (new or changed) that cannot be; `pauses` are the others.

    It must end on or after its first day, last at most LONGEST_PAUSE, not start in
    the past (before `today`) nor before the cohort starts, start before the programme
    is over (`end`: the day after its last week), and not overlap another pause.
    """
    if pause.last < pause.first:
        raise PauseError("ends_before_start")
    if pause.length > LONGEST_PAUSE:
        raise PauseError("too_long")
    if pause.first < today:
        raise PauseError("in_the_past")
    if pause.first < start:
        raise PauseError("before_start")
    if pause.first >= end:
        raise PauseError("after_end")
    for other in pauses:
        if other.id != pause.id and other.first <= pause.last and pause.first <= other.last:
            raise PauseError("overlaps", other)


@dataclass(frozen=True)
class Calendar:
    """What the scheduler needs to know of one cohort."""

    start: dt.date
    timezone: str
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(6, 0)
    meeting_day: int | None = None  # Monday 0 … Sunday 6
    meeting_at: dt.time | None = None
    weeks: int = WEEKS
    pauses: tuple[Pause, ...] = ()  # in order, none overlapping (see check_pause)
    holidays: tuple[tuple[dt.date, str], ...] = ()  # (day, name): national and local
    zone: ZoneInfo = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        object.__setattr__(self, "pauses", tuple(sorted(self.pauses)))

    def local(self, day: dt.date, at: dt.time) -> dt.datetime:
        """That local wall time as an aware UTC datetime."""
        return dt.datetime.combine(day, at, tzinfo=self.zone).astimezone(dt.UTC)

    def shifted(self, day: dt.date) -> dt.date:
        """The day the programme reaches `day` of the unpaused calendar: later by every
        pause that starts on or before it."""
        for pause in self.pauses:
            if pause.first <= day:
                day += pause.length
        return day

    @property
    def end(self) -> dt.date:
        """The day after the last week (later by the pauses inside the programme)."""
        last = self.start + dt.timedelta(weeks=self.weeks) - dt.timedelta(days=1)
        return self.shifted(last) + dt.timedelta(days=1)

    def pause_on(self, day: dt.date) -> Pause | None:
        """The pause that covers local `day`, if any."""
        for pause in self.pauses:
            if pause.covers(day):
                return pause
        return None

    def paused_at(self, when: dt.datetime) -> Pause | None:
        """The pause under way at `when`, if any."""
        return self.pause_on(when.astimezone(self.zone).date()) if self.pauses else None

    def holiday(self, day: dt.date) -> str | None:
        """The name of the holiday on `day`, if it is one."""
        for date, name in self.holidays:
            if date == day:
                return name
        return None

    def _spans(self) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Each pause as [its first midnight, the midnight after its last day), in UTC."""
        for pause in self.pauses:
            yield (
                self.local(pause.first, dt.time(0, 0)),
                self.local(pause.last + dt.timedelta(days=1), dt.time(0, 0)),
            )

    def paused_between(self, since: dt.datetime, until: dt.datetime) -> dt.timedelta:
        """How much of [since, until) the cohort spent paused."""
        total = dt.timedelta(0)
        for begin, end in self._spans():
            overlap = min(end, until) - max(begin, since)
            if overlap > dt.timedelta(0):
                total += overlap
        return total

    def after(self, since: dt.datetime, span: dt.timedelta) -> dt.datetime:
        """`since` plus `span` of the programme's time: paused time does not count."""
        at, left = since, span
        for begin, end in self._spans():
            if end <= at:
                continue
            if begin <= at:  # inside the pause: the clock starts at its end
                at = end
                continue
            if at + left <= begin:
                break
            left -= begin - at
            at = end
        return at + left


def unlock_at(cal: Calendar, week: int, schedule: Schedule) -> dt.datetime:
    """When week `week` opens, in UTC (moved out of quiet hours if need be)."""
    if not 1 <= week <= cal.weeks:
        raise ValueError(f"week {week} is not in 1..{cal.weeks}")
    day = cal.shifted(cal.start + dt.timedelta(weeks=week - 1))
    return next_open(cal, cal.local(day, schedule.unlock_at))


def programme_day(cal: Calendar, day: dt.date) -> int:
    """How many days of the programme have gone by on local `day` (paused days do not
    count; a paused day counts as its pause's first)."""
    days = (day - cal.start).days
    for pause in cal.pauses:
        if pause.first > day:
            break
        days -= (min(day, pause.last + dt.timedelta(days=1)) - pause.first).days
    return days


def calendar_week(cal: Calendar, now: dt.datetime, schedule: Schedule) -> int:
    """The latest week open by the calendar at `now`: 0 before the start, at most the last."""
    days = programme_day(cal, now.astimezone(cal.zone).date())
    if days < 0:
        return 0
    week = min(days // 7 + 1, cal.weeks)
    if now < unlock_at(cal, week, schedule):
        week -= 1
    return week


def may_start(
    week: int,
    done: set[int] | frozenset[int],
    cal: Calendar | None,
    now: dt.datetime,
    schedule: Schedule,
) -> bool:
    """Whether a participant may begin `week` now: the week before is done and the
    calendar has opened it. Week 1 opens on joining; without a cohort nothing opens."""
    if week > 1 and week - 1 not in done:
        return False
    if week == 1:
        return True
    return cal is not None and calendar_week(cal, now, schedule) >= week


def in_quiet_hours(cal: Calendar, when: dt.datetime) -> bool:
    local = when.astimezone(cal.zone).time()
    start, end = cal.quiet_start, cal.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def next_allowed(cal: Calendar, when: dt.datetime) -> dt.datetime:
    """`when`, or the end of the quiet hours it falls in."""
    if not in_quiet_hours(cal, when):
        return when.astimezone(dt.UTC)
    local = when.astimezone(cal.zone)
    day = local.date()
    if local.time() >= cal.quiet_start and cal.quiet_start > cal.quiet_end:
        day += dt.timedelta(days=1)  # quiet until tomorrow morning
    return cal.local(day, cal.quiet_end)


def next_open(cal: Calendar, when: dt.datetime) -> dt.datetime:
    """`when`, or the first moment after it outside quiet hours and outside any pause."""
    at = next_allowed(cal, when)
    while (pause := cal.paused_at(at)) is not None:
        at = next_allowed(cal, cal.local(pause.last + dt.timedelta(days=1), dt.time(0, 0)))
    return at


@dataclass(frozen=True)
class Rung:
    """What the silence ladder says now: send `kind` (or nothing) and move to `stage`."""

    stage: int
    kind: str | None
    due_at: dt.datetime | None = None


def silence(
    cal: Calendar, since: dt.datetime, stage: int, now: dt.datetime, schedule: Schedule
) -> Rung:
    """The silence ladder for someone quiet since `since` who has had `stage` rungs.
    Paused time is not silence: a rung is due that much later, and never in a pause.

    Returns the rung to send now (stage moves past it), a skip (a reminder more than
    `late_after` overdue is replaced by the next rung: the stage moves on, nothing is
    sent), or nothing when no rung is due or it is quiet hours. An overdue alert to
    the facilitator still goes: someone has to know.
    """
    ladder = schedule.ladder
    due = [
        i
        for i, (after, _kind) in enumerate(ladder)
        if i >= stage and cal.after(since, after) <= now
    ]
    if not due:
        return Rung(stage, None)
    i = due[-1]
    after, kind = ladder[i]
    moment = next_open(cal, cal.after(since, after))
    if now < moment:  # quiet hours: wait
        return Rung(stage, None)
    if kind != ALERT and now - moment > schedule.late_after:
        return Rung(i + 1, None, moment)
    return Rung(i + 1, kind, moment)


def next_silence_check(since: dt.datetime, stage: int, schedule: Schedule) -> dt.datetime | None:
    """The earliest the ladder for someone at `stage` may next have something to do
    (a pause makes it later: `silence` says)."""
    ladder = schedule.ladder
    return since + ladder[stage][0] if stage < len(ladder) else None


@dataclass(frozen=True)
class Event:
    """Something due for a whole cohort at `at`: its key makes it happen once."""

    kind: str  # unlock, meeting, digest, pause, holiday_check
    at: dt.datetime
    key: str
    week: int | None = None
    detail: str = ""  # meeting: "evening" or "morning"; pause: "start" or "end"
    meeting_at: dt.datetime | None = None
    holiday: str = ""  # a meeting (or its check) on a holiday: the holiday's name
    pause: Pause | None = None


def programme_week(cal: Calendar, day: dt.date) -> int:
    """The programme's week on local `day` (1 from the start; pauses do not count)."""
    return programme_day(cal, day) // 7 + 1


def cohort_events(
    cal: Calendar, schedule: Schedule, after: dt.datetime, until: dt.datetime, code: str
) -> Iterator[Event]:
    """The cohort's events with after < at <= until, in time order."""
    events: list[Event] = []
    first = max(cal.start, (after - dt.timedelta(days=2)).astimezone(cal.zone).date())
    end = cal.end
    last = min(
        end + dt.timedelta(days=7), (until + dt.timedelta(days=2)).astimezone(cal.zone).date()
    )
    if schedule.unlock:
        for week in range(1, cal.weeks + 1):
            at = unlock_at(cal, week, schedule)
            if after < at <= until:
                events.append(Event(UNLOCK, at, f"unlock:{code}:{week}", week))
    for pause in cal.pauses:
        begin = next_allowed(cal, cal.local(pause.first, schedule.unlock_at))
        finish = next_allowed(cal, cal.local(pause.last, PAUSE_END_AT))
        week = programme_week(cal, pause.first)
        events.append(
            Event(PAUSE, begin, f"pause:{code}:{pause.id}:start", week, "start", pause=pause)
        )
        events.append(
            Event(
                PAUSE, finish, f"pause:{code}:{pause.id}:end:{pause.last}", week, "end", pause=pause
            )
        )
    day = first
    while day <= last:
        paused = cal.pause_on(day) is not None
        week = programme_week(cal, day)
        if (
            cal.meeting_day is not None
            and day.weekday() == cal.meeting_day
            and day < end
            and not paused
        ):
            meeting = cal.local(day, cal.meeting_at or dt.time(16, 0))
            holiday = cal.holiday(day) or ""
            eve = day - dt.timedelta(days=1)
            if holiday:
                at = next_allowed(
                    cal, cal.local(eve, schedule.meeting_evening_at or dt.time(19, 0))
                )
                if at < meeting and cal.pause_on(eve) is None:
                    events.append(
                        Event(
                            HOLIDAY_CHECK, at, f"holiday:{code}:{day}", week, "", meeting, holiday
                        )
                    )
            # On a holiday, both reminders carry its name: they go out only once the
            # facilitator has said the meeting happens (the evening one too, when she
            # said so before being asked).
            if schedule.meeting_evening_at is not None and cal.pause_on(eve) is None:
                at = next_allowed(cal, cal.local(eve, schedule.meeting_evening_at))
                if at < meeting:
                    events.append(
                        Event(
                            MEETING,
                            at,
                            f"meeting:{code}:{day}:evening",
                            week,
                            "evening",
                            meeting,
                            holiday,
                        )
                    )
            if schedule.meeting_morning_at is not None:
                at = next_allowed(cal, cal.local(day, schedule.meeting_morning_at))
                if at < meeting:
                    events.append(
                        Event(
                            MEETING,
                            at,
                            f"meeting:{code}:{day}:morning",
                            week,
                            "morning",
                            meeting,
                            holiday,
                        )
                    )
        if (
            schedule.digest_day is not None
            and day.weekday() == schedule.digest_day
            and day >= cal.start
            and day <= end
            and not paused
        ):
            events.append(
                Event(
                    DIGEST,
                    next_allowed(cal, cal.local(day, schedule.digest_at)),
                    f"digest:{code}:{day}",
                    min(week, cal.weeks),
                )
            )
        day += dt.timedelta(days=1)
    events.sort(key=lambda e: (e.at, e.key))
    return (e for e in events if after < e.at <= until)


def next_event_at(
    cal: Calendar, schedule: Schedule, after: dt.datetime, code: str = ""
) -> dt.datetime | None:
    """When the cohort next has an event after `after` (None once the programme is over)."""
    horizon = after
    end = cal.local(cal.end + dt.timedelta(days=8), dt.time(0, 0))
    begin = cal.local(cal.start, dt.time(0, 0))
    if horizon < begin:
        horizon = begin - dt.timedelta(days=1)
    while horizon < end:
        upto = horizon + dt.timedelta(days=8)
        for event in cohort_events(cal, schedule, max(after, horizon), upto, code):
            return event.at
        horizon = upto
    return None


def is_late(event_at: dt.datetime, now: dt.datetime, schedule: Schedule) -> bool:
    return now - event_at > schedule.late_after


def day_index(name: str | None) -> int | None:
    """'senin' → 0 … 'minggu' → 6; None for no day or an unknown one."""
    return DAY_NAMES.index(name) if name in DAY_NAMES else None


LEBARAN_WEEKS = 2  # a Lebaran pause: from the Monday of Idul Fitri's week, two weeks


def lebaran_pause(idul_fitri: dt.date, reason: str = "Lebaran") -> Pause:
    """The pause `--pause-lebaran` and /jeda offer: the two weeks from the Monday of the
    week Idul Fitri falls in (mudik, then the visits of the first days of Syawal)."""
    first = idul_fitri - dt.timedelta(days=idul_fitri.weekday())
    return Pause(first, first + dt.timedelta(weeks=LEBARAN_WEEKS, days=-1), reason)


@dataclass(frozen=True)
class Moves:
    """What a change of pauses moves: weeks that open on another day, meetings that are
    no longer announced (or are again)."""

    weeks: tuple[tuple[int, dt.date, dt.date], ...]  # (week, was, now), local days
    skipped: tuple[dt.date, ...]  # meeting days newly inside a pause
    restored: tuple[dt.date, ...]  # meeting days no longer inside one
    end: dt.date  # the day after the programme's last week, with the change


def moves(before: Calendar, after: Calendar, schedule: Schedule, today: dt.date) -> Moves:
    """What changes, from `today` on, when `before`'s pauses become `after`'s."""
    weeks = []
    for week in range(1, after.weeks + 1):
        was = unlock_at(before, week, schedule).astimezone(before.zone).date()
        now = unlock_at(after, week, schedule).astimezone(after.zone).date()
        if was != now and max(was, now) >= today:
            weeks.append((week, was, now))
    skipped, restored = [], []
    if after.meeting_day is not None:
        day = today
        while day < max(before.end, after.end):
            if day.weekday() == after.meeting_day:
                inside_before = before.pause_on(day) is not None
                inside_after = after.pause_on(day) is not None
                if inside_after and not inside_before:
                    skipped.append(day)
                elif inside_before and not inside_after and day < after.end:
                    restored.append(day)
            day += dt.timedelta(days=1)
    return Moves(tuple(weeks), tuple(skipped), tuple(restored), after.end)
