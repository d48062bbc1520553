"""Personal data as shown to callers without a need for it."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str | None:
    """138****1234: enough to tell two numbers apart, not enough to call one."""
    if phone is None:
        return None
    digits = phone.strip()
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
