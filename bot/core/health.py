"""What `jamaah run`'s long tasks are doing, for /healthz: a channel whose receiving task
(Telegram's long polling) is not running hears nobody, and /healthz says so."""

from __future__ import annotations

from dataclasses import dataclass, field

RUNNING, RESTARTING, DEAD = "running", "restarting", "dead"


@dataclass
class Health:
    tasks: dict[str, str] = field(default_factory=dict)  # task name -> its state
    receivers: dict[str, str] = field(default_factory=dict)  # channel -> its receiving task

    def set(self, task: str, state: str) -> None:
        self.tasks[task] = state

    def dead_channels(self) -> list[str]:
        """The channels whose receiving task is not running (restarting, or stopped)."""
        return sorted(c for c, t in self.receivers.items() if self.tasks.get(t) != RUNNING)


__all__ = ["DEAD", "RESTARTING", "RUNNING", "Health"]
