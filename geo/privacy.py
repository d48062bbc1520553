"""Personal data (contacts' and landlords' phones, home addresses): who sees it, and how.

    field            anonymous  inspector  town officer  district officer
    contact phone    hidden     masked     full          masked
    landlord phone   hidden     masked     full          masked
    rental address   hidden     full       full          masked
    flag actor       hidden     hidden     full          full

The town officer is the one with a need; an inspector needs the address of a home to visit it.
Who changed a flag (the account that reported or overrode) is for the officers who answer for
flags; an inspector or the public has no need of a colleague's name.
A role counts on the caller's own rows only (their town, their zones: geo.scope.own); on the
public rows of other towns, which everyone sees, they see personal data as anyone does. Every
full read is audited.
"""

from __future__ import annotations

import enum
import re

from geo.models import Role
from geo.scope import Caller


class Disclosure(enum.Enum):
    FULL = "FULL"
    MASKED = "MASKED"
    HIDDEN = "HIDDEN"


class Personal(enum.Enum):
    CONTACT_PHONE = "contactPhone"
    LANDLORD_PHONE = "landlordPhone"
    RENTAL_ADDRESS = "address"
    FLAG_ACTOR = "actor"


_F, _M, _H = Disclosure.FULL, Disclosure.MASKED, Disclosure.HIDDEN
POLICY: dict[Personal, dict[Role | None, Disclosure]] = {
    Personal.CONTACT_PHONE: {
        None: _H, Role.INSPECTOR: _M, Role.TOWN_OFFICER: _F, Role.DISTRICT_OFFICER: _M
    },
    Personal.LANDLORD_PHONE: {
        None: _H, Role.INSPECTOR: _M, Role.TOWN_OFFICER: _F, Role.DISTRICT_OFFICER: _M
    },
    Personal.RENTAL_ADDRESS: {
        None: _H, Role.INSPECTOR: _F, Role.TOWN_OFFICER: _F, Role.DISTRICT_OFFICER: _M
    },
    Personal.FLAG_ACTOR: {
        None: _H, Role.INSPECTOR: _H, Role.TOWN_OFFICER: _F, Role.DISTRICT_OFFICER: _F
    },
}  # fmt: skip


def disclosure(caller: Caller, field: Personal, own: bool) -> Disclosure:
    """How `caller` sees `field` of a row; `own`: whether the row is theirs (geo.scope)."""
    return POLICY[field][caller.role if own else None]


def mask_phone(phone: str) -> str:
    """138****1234: enough to tell two numbers apart, not enough to call one."""
    digits = phone.strip()
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_address(address: str) -> str:
    """金峰镇华阳村**号: the village stays, the house number goes."""
    return re.sub(r"[0-9０-９]", "*", address)


MASKS = {
    Personal.CONTACT_PHONE: mask_phone,
    Personal.LANDLORD_PHONE: mask_phone,
    Personal.RENTAL_ADDRESS: mask_address,
}


def shown(caller: Caller, field: Personal, value: str | None, own: bool) -> str | None:
    """The value as this caller may see it."""
    way = disclosure(caller, field, own)
    if value is None or way is Disclosure.HIDDEN:
        return None
    return value if way is Disclosure.FULL else MASKS[field](value)
