"""Who a staff member may see (DESIGN invariant 7).

- a facilitator: the cohorts they hold a facilitator membership in;
- a coordinator: every cohort whose region path is at or under one of theirs
  (`jawa-tengah` covers `jawa-tengah/salatiga/tritis`, not `jawa-tengahx`);
- an admin: every cohort.

Unknown and out-of-scope look the same to the asker ("not in your cohorts"), so a
question cannot be used to learn which cohorts exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.core.turn import Turn
from storage import repo
from storage.repo import ADMIN, COORDINATOR, FACILITATOR, cohorts, memberships

MESSAGES: tuple[str, ...] = ("staff.not_in_scope",)


@dataclass(frozen=True)
class Scope:
    person_id: int
    roles: frozenset[str]  # facilitator, coordinator, admin (never participant)
    cohort_ids: frozenset[int]  # the cohorts a facilitator holds
    regions: tuple[str, ...]  # a coordinator's region paths

    @property
    def is_staff(self) -> bool:
        return bool(self.roles)

    @property
    def admin(self) -> bool:
        return ADMIN in self.roles

    def covers(self, *, cohort_id: int, region: str) -> bool:
        """Whether a cohort (its id and region path) is in this scope."""
        return self.admin or cohort_id in self.cohort_ids or self.covers_region(region)

    def covers_region(self, region: str) -> bool:
        return self.admin or any(in_region(region, path) for path in self.regions)


def in_region(region: str, path: str) -> bool:
    """Whether region path `region` is `path` or under it."""
    region, path = region.strip("/").lower(), path.strip("/").lower()
    return bool(path) and (region == path or region.startswith(path + "/"))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def scope_of(conn: AsyncConnection, person_id: int) -> Scope:
    rows = (
        await conn.execute(
            select(memberships.c.role, memberships.c.cohort_id, memberships.c.region).where(
                memberships.c.person_id == person_id,
                memberships.c.role.in_((FACILITATOR, COORDINATOR, ADMIN)),
            )
        )
    ).all()
    return Scope(
        person_id=person_id,
        roles=frozenset(r.role for r in rows),
        cohort_ids=frozenset(
            r.cohort_id for r in rows if r.role == FACILITATOR and r.cohort_id is not None
        ),
        regions=tuple(
            r.region.strip("/").lower() for r in rows if r.role == COORDINATOR and r.region
        ),
    )


def scope_filter(scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause on `cohorts` for the cohorts in `scope`."""
    if scope.admin:
        return cohorts.c.id.is_not(None)
    clauses: list[ColumnElement[bool]] = []
    if scope.cohort_ids:
        clauses.append(cohorts.c.id.in_(sorted(scope.cohort_ids)))
    for path in scope.regions:
        clauses.append(func.lower(cohorts.c.region) == path)
        clauses.append(func.lower(cohorts.c.region).like(_like_escape(path) + "/%", escape="\\"))
    return or_(*clauses) if clauses else false()


async def cohorts_in_scope(
    conn: AsyncConnection, scope: Scope, *, under: str | None = None
) -> Sequence[Row[Any]]:
    """The cohorts in scope (optionally only those under region path `under`), by code."""
    stmt = select(cohorts).where(scope_filter(scope)).order_by(cohorts.c.region, cohorts.c.code)
    if under:
        path = under.strip("/").lower()
        stmt = stmt.where(
            or_(
                func.lower(cohorts.c.region) == path,
                func.lower(cohorts.c.region).like(_like_escape(path) + "/%", escape="\\"),
            )
        )
    return (await conn.execute(stmt)).all()


async def cohort_in_scope(conn: AsyncConnection, scope: Scope, code: str) -> Row[Any] | None:
    """The cohort with this code if it is in scope; None when unknown or out of scope."""
    code = code.strip()
    if not code or len(code) > 32:
        return None
    row = await repo.get_cohort(conn, code=code)
    if row is None or not scope.covers(cohort_id=row.id, region=row.region):
        return None
    return row


async def target_in_scope(
    conn: AsyncConnection, scope: Scope, given: str
) -> Sequence[Row[Any]] | None:
    """What `/progres X` and `/ekspor X` mean by X: a cohort code or a region path.

    Empty X: every cohort in scope. None when X names nothing in scope (unknown or not
    theirs alike).
    """
    given = given.strip()
    if not given:
        return await cohorts_in_scope(conn, scope)
    cohort = await cohort_in_scope(conn, scope, given)
    if cohort is not None:
        return [cohort]
    if len(given) <= 200:  # a region path: the cohorts in scope under it
        found = await cohorts_in_scope(conn, scope, under=given)
        if found:
            return found
    return None


async def person_in_scope(conn: AsyncConnection, scope: Scope, person_id: int) -> Row[Any] | None:
    """A participant's membership row (with cohort id and region) if they are in scope."""
    row = (
        await conn.execute(
            select(memberships.c.person_id, cohorts.c.id.label("cohort_id"), cohorts.c.region)
            .join(cohorts, cohorts.c.id == memberships.c.cohort_id)
            .where(memberships.c.person_id == person_id, memberships.c.role == repo.PARTICIPANT)
        )
    ).first()
    if row is None or not scope.covers(cohort_id=row.cohort_id, region=row.region):
        return None
    return row


async def scope(turn: Turn) -> Scope:
    """The asker's scope (read once per turn)."""
    return await scope_of(turn.conn, turn.person_id)


async def not_in_scope(turn: Turn, given: str) -> None:
    """The one answer for unknown and out-of-scope alike: nothing is learnt from it."""
    await turn.say("staff.not_in_scope", {"given": given.strip()[:60]})
