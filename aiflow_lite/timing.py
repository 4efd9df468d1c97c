"""Periodic expressions (`cron@<crontab>` and `interval@<days> <hours> <minutes> <seconds>`) as
pure "next fire time" calculators: no clock is read here, the caller passes the times in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from aiflow_lite.errors import InvalidInput

_MAX_INTERVAL_MS = 100 * 366 * 86_400_000
_HELP = ("use cron@<minute hour day month weekday>, e.g. 'cron@*/5 * * * *', or "
         "interval@<days> <hours> <minutes> <seconds>, e.g. 'interval@0 1 0 0'")


@dataclass(frozen=True)
class PeriodicExpression:
    kind: str  # "cron" or "interval"
    text: str
    body: str
    interval_ms: int = 0

    def next_fire(self, after_ms: int, anchor_ms: Optional[int] = None) -> int:
        """The first fire time strictly after `after_ms` (epoch ms). Intervals count from
        `anchor_ms` (when the schedule began; default `after_ms`); cron runs in local time."""
        if self.kind == "interval":
            anchor = after_ms if anchor_ms is None else anchor_ms
            if after_ms < anchor:
                return anchor + self.interval_ms
            periods = (after_ms - anchor) // self.interval_ms + 1
            return anchor + periods * self.interval_ms
        from croniter import croniter

        start = datetime.fromtimestamp(after_ms / 1000, tz=timezone.utc).astimezone()
        nxt = croniter(self.body, start).get_next(datetime)
        return int(nxt.timestamp() * 1000)


def parse_periodic_expression(text: str) -> PeriodicExpression:
    """Validate an expression; one clear error says what is wrong."""
    if not isinstance(text, str) or "@" not in text:
        raise InvalidInput(f"invalid periodic expression {text!r}: {_HELP}")
    kind, _, body = text.partition("@")
    kind, body = kind.strip().lower(), body.strip()
    if kind == "cron":
        from croniter import croniter

        if len(body.split()) not in (5, 6) or not croniter.is_valid(body):
            raise InvalidInput(f"invalid cron expression {body!r} in {text!r}: {_HELP}")
        try:
            croniter(body, datetime(2000, 1, 1)).get_next(datetime)
        except Exception:  # e.g. 'cron@0 0 31 2 *': valid syntax, but it never fires
            raise InvalidInput(f"cron expression {body!r} never fires") from None
        return PeriodicExpression("cron", text, body)
    if kind == "interval":
        parts = body.replace(",", " ").split()
        if len(parts) != 4 or not all(re.fullmatch(r"[0-9]{1,9}", p) for p in parts):
            raise InvalidInput(
                f"invalid interval {body!r} in {text!r}: give four whole numbers, "
                "<days> <hours> <minutes> <seconds>"
            )
        days, hours, minutes, seconds = (int(p) for p in parts)
        ms = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000
        if ms <= 0:
            raise InvalidInput(f"invalid interval {text!r}: it must be longer than zero")
        if ms > _MAX_INTERVAL_MS:
            raise InvalidInput(f"invalid interval {text!r}: at most 100 years")
        return PeriodicExpression("interval", text, body, ms)
    raise InvalidInput(f"invalid periodic expression {text!r}: unknown kind {kind!r}; {_HELP}")
