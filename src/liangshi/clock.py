"""Injectable clock: rules take dates as arguments; entry points ask the clock.

This is the one module that reads the wall clock (ruff DTZ is ignored here only). Below the entry points, code
gets `today`/`now` from the Context or an argument. Schema validators ("not in the future") read the validation
context's `today`, else the unit of work's today that an entry point bound with `today_is` (HTTP request, web
page, CLI command, import job); with neither they fail loudly instead of asking the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")

_UNIT_TODAY: ContextVar[dt.date | None] = ContextVar("liangshi_unit_today", default=None)


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


@contextmanager
def today_is(day: dt.date) -> Iterator[dt.date]:
    """Bind the unit of work's today (the date schema validators check against) for the block."""
    token = _UNIT_TODAY.set(day)
    try:
        yield day
    finally:
        _UNIT_TODAY.reset(token)


def unit_today() -> dt.date | None:
    """The today bound by the entry point running this unit of work, or None outside one."""
    return _UNIT_TODAY.get()
