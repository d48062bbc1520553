"""Numbers in paths and query strings, read one way: whole, and short enough to be sane."""

from __future__ import annotations

from geo.errors import BadInput

# No number a route takes needs more digits (tile x/y at z22: 7); Python refuses to read more
# than 4,300 at all, which was a 500.
MAX_DIGITS = 9


def whole_number(text: str, name: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise BadInput(f"{name} must be a whole number, not {text[:20]!r}")
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise BadInput(f"{name} is out of range: at most {MAX_DIGITS} digits")
    return int(text)
