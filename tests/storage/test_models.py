"""The models' column types (storage/models.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from storage.models import UTCDateTime


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        UTCDateTime().process_bind_param(dt.datetime(2027, 1, 1), None)  # type: ignore[arg-type]
