"""Statement helpers the repositories share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text


# Upserts are written once as text: SQLite and PostgreSQL share the ON CONFLICT syntax,
# and SQLAlchemy caches a compiled text() statement, while it compiles its dialect
# INSERT ... ON CONFLICT constructs afresh on every call (they opt out of its cache).
# The bound parameters carry the column types, so times and JSON are stored as
# everywhere else.
def upsert(sql: str, **types: Any) -> Any:
    """A text statement (an INSERT ... ON CONFLICT, usually) with typed parameters."""
    return text(sql).bindparams(*(bindparam(name, type_=type_) for name, type_ in types.items()))
