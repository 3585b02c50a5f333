"""How counts, durations and times are written in the sentences the app shows, the same way on every page and in
the command line."""

import time


def plural(count: int, noun: str, many: str = "") -> str:
    """'1 record', '3 records' (``many`` for irregular plurals)."""
    return f"{count:,} {noun if count == 1 else many or noun + 's'}"


def days(count: float) -> str:
    """'1 day', '7 days', '0.5 days'."""
    return f"{count:g} day" if count == 1 else f"{count:g} days"


def format_duration(seconds: float | None) -> str:
    """'45 s', '3 min 05 s', '12 min', '2 h 10 min' or '3 days 4 h'; 'estimating…' when not known yet."""
    if seconds is None:
        return "estimating…"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min {rest:02d} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def clock(timestamp: float | None, seconds: bool = False, never: str = "") -> str:
    """A local date and time, '2026-12-01 14:05' (with ``seconds``, '14:05:09'); ``never`` when there is none."""
    if not timestamp:
        return never
    return time.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M", time.localtime(timestamp))
