"""Kept while bot/ moves; import from storage.dialogs and storage.roster instead.

- storage.dialogs  get_dialog, save_dialog, delete_dialog, dialogs_t (from storage.tables)
- storage.roster   roster, RosterEntry
"""

from __future__ import annotations

from storage.dialogs import delete_dialog, get_dialog, save_dialog
from storage.roster import RosterEntry, roster
from storage.tables import dialogs_t

__all__ = ["RosterEntry", "delete_dialog", "dialogs_t", "get_dialog", "roster", "save_dialog"]
