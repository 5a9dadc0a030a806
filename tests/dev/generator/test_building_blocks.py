"""Calendar, Windows-1258 spelling and contact fields, checked in isolation."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.contacts import ContactProfile, make_contact
from motcua_dev.generator.textcodec import encode_cp1258, to_cp1258_text
from motcua_dev.generator.units import load_units
from motcua_dev.generator.workdays import WorkCalendar
from tests.dev.generator.inbox_check import email_valid, is_missing, phone_valid


def test_working_days_skip_weekends_and_tet() -> None:
    cal = WorkCalendar(date(2017, 1, 1), date(2017, 12, 31))
    # Wed 25/01/2017 + 1 working day jumps Tết (26/01–01/02) and the weekend.
    assert cal.add(date(2017, 1, 25), 1) == date(2017, 2, 2)
    assert not cal.is_working(date(2017, 9, 4))  # National Day observed
    assert cal.count(date(2017, 1, 1), date(2017, 1, 31)) == 17


def test_every_vietnamese_string_round_trips_through_cp1258() -> None:
    units = load_units()
    texts = [
        *cat.ONESTOP_HEADERS,
        *cat.SURVEY_HEADERS,
        *cat.STATUSES,
        *cat.CHANNEL_WORDS.values(),
        *cat.ANSWER_LABELS.values(),
        *cat.AGENCIES,
        *cat.PLACEHOLDERS,
        *cat.FAMILY_NAMES,
        *cat.MIDDLE_NAMES,
        *cat.GIVEN_NAMES,
        *cat.HAMLETS,
        *cat.STREETS,
        *cat.SURVEY_COMMENTS,
        *cat.OFFICERS,
        *cat.NOTES,
        *(p.name for p in cat.PROCEDURES),
        *(p.sector for p in cat.PROCEDURES),
        *(u.name for u in units),
    ]
    for text in texts:
        encoded = encode_cp1258(text)
        assert unicodedata.normalize("NFC", encoded.decode("cp1258")) == text
    # Tone marks really are separate bytes (the legacy spelling), base vowels precomposed.
    assert to_cp1258_text("ờ") == "ơ\u0300"
    assert to_cp1258_text("ậ") == "â\u0323"


def test_contact_flags_match_the_rules() -> None:
    rng = random.Random(3)
    unit = load_units()[0]
    profile = ContactProfile(address_ok=0.5, phone_ok=0.5, email_ok=0.5, malformed_share=0.5)
    seen = {"address": set(), "phone": set(), "email": set()}
    for _ in range(5000):
        c = make_contact(rng, unit, profile)
        assert (not is_missing(c.address)) == c.address_present, c.address
        assert phone_valid(c.phone) == c.phone_valid, c.phone
        assert email_valid(c.email) == c.email_valid, c.email
        seen["address"].add(c.address_present)
        seen["phone"].add((c.phone_valid, is_missing(c.phone)))
        seen["email"].add((c.email_valid, is_missing(c.email)))
    assert seen["address"] == {True, False}
    assert seen["phone"] == {(True, False), (False, True), (False, False)}
    assert seen["email"] == {(True, False), (False, True), (False, False)}
