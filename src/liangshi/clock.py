"""Injectable clock: rules take dates as arguments; entry points ask the clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """Current time; tests pass a fixed clock."""

    def __init__(self, now: Callable[[], dt.datetime] | None = None) -> None:
        self._now = now or (lambda: dt.datetime.now(dt.UTC))

    def now(self) -> dt.datetime:
        """Timezone-aware current instant."""
        value = self._now()
        if value.tzinfo is None:
            raise ValueError("clock must return timezone-aware datetimes")
        return value

    def today(self) -> dt.date:
        """Today's date in China (the registry's civil calendar)."""
        return self.now().astimezone(CHINA_TZ).date()


def fixed(at: dt.datetime) -> Clock:
    """A clock that always answers `at`."""
    return Clock(lambda: at)
