"""Applicant contact fields, messy on purpose, with their validity known by construction.

The letter asks every dossier to carry address, phone and email; the
warehouse measures how often they are missing or malformed (docs/rules.md
"Citizen contact fields"). Each generator below returns the text *and*
whether docs/rules.md counts it as present/valid, so the manifest can state
exact completeness figures without re-parsing its own output.
Every value is synthetic: names from a short list, phones with a ``000``
block, emails at example.vn / example.com.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from motcua_dev.generator import catalog
from motcua_dev.generator.units import Unit


@dataclass(frozen=True)
class ContactProfile:
    """Shares of present/valid values; communes differ, the letter's point."""

    address_ok: float = 0.85
    phone_ok: float = 0.62
    email_ok: float = 0.12
    # Of the values that are not OK: share that is a malformed value rather
    # than missing/placeholder.
    malformed_share: float = 0.35


@dataclass(frozen=True)
class Contact:
    """One applicant's identity and contact fields as written in the export."""

    name: str
    address: str
    phone: str
    email: str
    address_present: bool
    phone_valid: bool
    email_valid: bool

    @property
    def complete(self) -> bool:
        return self.address_present and self.phone_valid and self.email_valid


def _ascii_slug(text: str) -> str:
    """``Nguyễn Văn An`` -> ``nguyenvanan`` for synthetic email local parts."""
    stripped = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in stripped if c.isascii() and c.isalnum()).lower()


def person_name(rng: random.Random) -> str:
    return " ".join(
        (
            rng.choice(catalog.FAMILY_NAMES),
            rng.choice(catalog.MIDDLE_NAMES),
            rng.choice(catalog.GIVEN_NAMES),
        )
    )


def _missing(rng: random.Random) -> str:
    """Empty, blank or one of the placeholders docs/rules.md lists."""
    roll = rng.random()
    if roll < 0.45:
        return ""
    if roll < 0.5:
        return "   "
    return rng.choice(catalog.PLACEHOLDERS)


def address(rng: random.Random, unit: Unit) -> str:
    """A residential address inside ``unit`` (commas force CSV quoting)."""
    if unit.is_ward:
        if rng.random() < 0.5:
            place = f"Số {rng.randint(1, 250)} đường {rng.choice(catalog.STREETS)}"
        else:
            place = f"Tổ dân phố {rng.randint(1, 12)}"
    else:
        place = rng.choice(catalog.HAMLETS)
    tail = "" if rng.random() < 0.3 else ", thị xã Ninh Hòa, Khánh Hòa"
    return f"{place}, {unit.name}{tail}"


def _mobile_digits(rng: random.Random) -> str:
    """Ten digits ``0PP0000NNN``: a real-looking prefix and an obviously fake block."""
    prefix = rng.choice(("905", "914", "935", "988", "977", "367", "868", "796"))
    return f"0{prefix}000{rng.randint(0, 999):03d}"


def valid_phone(rng: random.Random) -> str:
    """A phone docs/rules.md accepts, written the many ways people write it."""
    mobile = _mobile_digits(rng)
    kind = rng.randrange(9)
    if kind == 0:
        return f"{mobile[:4]} {mobile[4:7]} {mobile[7:]}"
    if kind == 1:
        return f"+84 {mobile[1:]}"
    if kind == 2:
        return f"84{mobile[1:]}"
    if kind == 3:
        return f"058.3000{rng.randint(0, 999):03d}"  # pre-2017 Khánh Hòa landline, 10 digits
    if kind == 4:
        return f"(0258) 3000 {rng.randint(0, 999):03d}"  # post-2017 landline, 11 digits
    if kind == 5:
        return f"{mobile[:4]}-{mobile[4:7]}-{mobile[7:]}"
    if kind == 6:
        return f"0122{rng.randint(0, 9)}000{rng.randint(0, 999):03d}"  # old 11-digit mobile
    if kind == 7:
        return f" {mobile} "
    return mobile


def invalid_phone(rng: random.Random) -> str:
    """A non-empty phone that fails docs/rules.md's pattern."""
    mobile = _mobile_digits(rng)
    return rng.choice(
        (
            mobile[:7],  # too short
            mobile[:9],  # one digit missing
            mobile + "45",  # 12 digits
            "1900 0000",
            "0000000000",
            f"{mobile[:3]}a{mobile[4:]}",
            "+1 555 0100",
            f"sđt {mobile}",
            "84 12345",
        )
    )


def valid_email(rng: random.Random, name: str) -> str:
    slug = _ascii_slug(name)
    kind = rng.randrange(4)
    domain = rng.choice(catalog.EMAIL_DOMAINS)
    if kind == 0:
        return f"{slug}{rng.randint(60, 99)}@{domain}"
    if kind == 1:
        parts = [_ascii_slug(p) for p in name.split()]
        return f"{'.'.join(parts)}@{domain}"
    if kind == 2:
        return f"{slug.capitalize()}@{domain.upper()}"
    return f"{slug}@{domain}"


def invalid_email(rng: random.Random, name: str) -> str:
    slug = _ascii_slug(name)
    return rng.choice(
        (
            f"{slug}@example",
            f"{slug}.example.vn",
            f"{slug}@@example.vn",
            f"{name.split()[0].lower()} {slug}@example.vn",
            f"{slug}@example.v",
            "@example.vn",
            f"{slug}@gmail",
        )
    )


def make_contact(rng: random.Random, unit: Unit, profile: ContactProfile) -> Contact:
    """Draw one applicant with independent address/phone/email quality."""
    name = person_name(rng)
    if rng.random() < profile.address_ok:
        addr, addr_ok = address(rng, unit), True
    else:
        addr, addr_ok = _missing(rng), False
    if rng.random() < profile.phone_ok:
        phone, phone_ok = valid_phone(rng), True
    elif rng.random() < profile.malformed_share:
        phone, phone_ok = invalid_phone(rng), False
    else:
        phone, phone_ok = _missing(rng), False
    if rng.random() < profile.email_ok:
        email, email_ok = valid_email(rng, name), True
    elif rng.random() < profile.malformed_share:
        email, email_ok = invalid_email(rng, name), False
    else:
        email, email_ok = _missing(rng), False
    return Contact(name, addr, phone, email, addr_ok, phone_ok, email_ok)


def completed(rng: random.Random, unit: Unit, old: Contact) -> Contact:
    """The same applicant after the desk filled the missing fields in."""
    return Contact(
        old.name,
        old.address if old.address_present else address(rng, unit),
        old.phone if old.phone_valid else valid_phone(rng),
        old.email if old.email_valid else valid_email(rng, old.name),
        True,
        True,
        True,
    )
