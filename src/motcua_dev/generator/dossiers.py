"""Dossier lifecycles: what happens to one hồ sơ, day by day, and how a state is written.

A ``DossierPlan`` is decided entirely when the dossier is received (its
procedure, due date, when it gets its result, whether it is withdrawn, its
apology letter...), as a short list of ``Event``s. The engine keeps only the
plans that still have future events, so memory depends on the number of
open dossiers, never on the total written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.contacts import Contact, ContactProfile, completed, make_contact
from motcua_dev.generator.units import Unit
from motcua_dev.generator.variants import FileVariant
from motcua_dev.generator.workdays import WorkCalendar

DUE_TIME = time(17, 0)


@dataclass(slots=True)
class Event:
    """The dossier's state right after one change in the source system."""

    at: datetime
    status: str
    contact: Contact
    show_result: bool = False
    show_returned: bool = False
    show_apology: bool = False
    # A corrected copy with the same ``Cập nhật lúc`` that goes to a later-sorting
    # file of the same night (docs/sources.md tie rule: the later file wins).
    tie_contact: Contact | None = None


@dataclass(slots=True)
class DossierPlan:
    """Everything about one dossier, fixed at reception."""

    unit: Unit
    procedure: cat.Procedure
    channel: int
    place: str
    received: datetime
    due: date | None
    result_at: datetime | None = None
    returned_at: datetime | None = None
    result_blank: bool = False  # "Ngày có kết quả" left empty, only the return date is set
    apology_at: datetime | None = None
    apology_due: date | None = None
    events: list[Event] = field(default_factory=list)
    pinned: bool = False
    code: str = ""
    next_event: int = 0

    @property
    def final(self) -> Event:
        return self.events[-1]

    def final_contact(self) -> Contact:
        last = self.events[-1]
        return last.tie_contact or last.contact

    def done_date(self) -> date | None:
        """docs/rules.md ``done`` of the final state: result date, else return date."""
        last = self.events[-1]
        if last.show_result and not self.result_blank and self.result_at is not None:
            return self.result_at.date()
        if last.show_returned and self.returned_at is not None:
            return self.returned_at.date()
        return None


# --- time of day ------------------------------------------------------------------------
def office_time(rng: random.Random, day: date, latest: time = time(16, 30)) -> datetime:
    """A moment within office hours (07:30–11:30, 13:30–``latest``)."""
    if rng.random() < 0.55:
        start, span = 7 * 3600 + 1800, 4 * 3600
    else:
        start = 13 * 3600 + 1800
        span = max(60, latest.hour * 3600 + latest.minute * 60 - start)
    second = start + rng.randrange(span)
    return datetime.combine(day, time(second // 3600, second // 60 % 60, second % 60))


def moment_after(rng: random.Random, prev: datetime, day: date) -> datetime:
    """A moment on ``day`` strictly after ``prev`` (same day: a few minutes later)."""
    if day > prev.date():
        return office_time(rng, day, time(17, 0))
    return prev + timedelta(minutes=rng.randint(3, 80), seconds=rng.randint(1, 59))


# --- lifecycle assembly -----------------------------------------------------------------
STEP_STATUS: dict[str, str | None] = {
    "receive": cat.ST_RECEIVED,
    "refuse": cat.ST_REFUSED,
    "process": cat.ST_PROCESSING,
    "supplement": cat.ST_SUPPLEMENT,
    "resume": cat.ST_PROCESSING,
    "apology": None,
    "result": cat.ST_RESULT,
    "return": cat.ST_RETURNED,
    "withdraw": cat.ST_WITHDRAWN,
    "stop": cat.ST_STOPPED,
}


def assemble(steps: list[tuple[datetime, str]], horizon: date, contact: Contact) -> list[Event]:
    """Turn timed steps into cumulative states, dropping steps after ``horizon``.

    Steps are sorted and given strictly increasing timestamps, so each later
    row of the dossier has a later ``Cập nhật lúc``.
    """
    events: list[Event] = []
    status = cat.ST_RECEIVED
    shown = {"result": False, "return": False, "apology": False}
    last: datetime | None = None
    for at, kind in sorted(steps, key=lambda s: s[0]):
        if at.date() > horizon:
            break
        if last is not None and at <= last:
            at = last + timedelta(seconds=1)
        new_status = STEP_STATUS[kind]
        if new_status is not None:
            status = new_status
        if kind in shown:
            shown[kind] = True
        events.append(
            Event(at, status, contact, shown["result"], shown["return"], shown["apology"])
        )
        last = at
    return events


def apply_contact_change(rng: random.Random, plan: DossierPlan, new: Contact, tie: bool) -> None:
    """From some later event on, the desk has completed the applicant's data.

    With ``tie`` the change is published as a same-timestamp copy in a later
    file of the same night instead (only at an event that is the last of its
    day, so that night's main file really holds the old version).
    """
    events = plan.events
    if len(events) < 2 and not tie:
        return
    if tie:
        candidates = [
            i
            for i, ev in enumerate(events)
            if i == len(events) - 1 or events[i + 1].at.date() != ev.at.date()
        ]
        index = candidates[-1] if rng.random() < 0.7 else rng.choice(candidates)
        events[index].tie_contact = new
        for ev in events[index + 1 :]:
            ev.contact = new
        return
    index = rng.randrange(1, len(events))
    for ev in events[index:]:
        ev.contact = new


# --- random dossiers --------------------------------------------------------------------
@dataclass(frozen=True)
class UnitProfile:
    """How one commune tends to work; the story presets vary it per commune."""

    late_share: float = 0.06
    early_share: float = 0.30
    outside_share: float = 0.05
    online_share: float = 0.05
    postal_share: float = 0.03
    contact: ContactProfile = field(default_factory=ContactProfile)
    refused_share: float = 0.012
    withdrawn_share: float = 0.015
    stopped_share: float = 0.006
    stuck_share: float = 0.006
    supplement_share: float = 0.07
    contact_fix_share: float = 0.04


LATE_STEPS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 7, 10)


def pick_procedure(rng: random.Random, min_days: int = 0) -> cat.Procedure:
    while True:
        proc = rng.choices(cat.PROCEDURES, cat.PROCEDURE_WEIGHTS)[0]
        if proc.days >= min_days:
            return proc


def pick_channel(rng: random.Random, profile: UnitProfile) -> int:
    roll = rng.random()
    if roll < profile.online_share:
        return cat.CH_ONLINE
    if roll < profile.online_share + profile.postal_share:
        return cat.CH_POSTAL
    return cat.CH_DIRECT


def random_plan(
    rng: random.Random,
    unit: Unit,
    day: date,
    cal: WorkCalendar,
    horizon: date,
    profile: UnitProfile,
    close_before: date | None = None,
    tie_share: float = 0.0,
) -> DossierPlan:
    """A background dossier received on working day ``day``.

    ``close_before`` (used for communes a scenario pins from that date)
    forces the dossier to be done before it and never withdrawn, so it cannot
    leak into the pinned period as carried over or resolved.
    """
    proc = pick_procedure(rng)
    received = office_time(rng, day)
    place = cat.PLACE_SPECIALIST if rng.random() < profile.outside_share else cat.PLACE_DESK
    plan = DossierPlan(unit, proc, pick_channel(rng, profile), place, received, None)
    plan.due = cal.add(day, proc.days)
    contact = make_contact(rng, unit, profile.contact)
    roll = rng.random()
    if close_before is not None:
        roll = 1.0
    steps: list[tuple[datetime, str]]
    if roll < profile.refused_share:
        steps = [(received, "refuse")]
        if rng.random() < 0.6:
            plan.due = None  # allowed: due is not required when refused
    elif roll < profile.refused_share + profile.withdrawn_share + profile.stopped_share:
        kind = "withdraw" if roll < profile.refused_share + profile.withdrawn_share else "stop"
        end_day = cal.add(day, rng.randint(0, max(1, proc.days)))
        steps = [(received, "receive")]
        steps += processing_steps(rng, received, end_day, cal)
        steps.append((moment_after(rng, steps[-1][0], end_day), kind))
    elif roll < (
        profile.refused_share
        + profile.withdrawn_share
        + profile.stopped_share
        + profile.stuck_share
    ):
        steps = [(received, "receive")]
        stall = cal.add(day, rng.randint(1, 6))
        steps.append((moment_after(rng, received, stall), "process"))
        if rng.random() < 0.5:
            steps.append((office_time(rng, cal.add(stall, rng.randint(1, 5))), "supplement"))
    else:
        steps = _resolved_steps(rng, plan, cal, profile, close_before)
    plan.events = assemble(steps, horizon, contact)
    if close_before is not None:
        done = plan.done_date()
        if done is None or done >= close_before:  # would leak into a pinned period
            raise AssertionError(f"background dossier not closed before {close_before}")
    if not contact.complete:
        if rng.random() < profile.contact_fix_share:
            apply_contact_change(rng, plan, completed(rng, unit, contact), False)
        elif tie_share and rng.random() < tie_share:
            apply_contact_change(rng, plan, completed(rng, unit, contact), True)
    return plan


def processing_steps(
    rng: random.Random, received: datetime, until: date, cal: WorkCalendar
) -> list[tuple[datetime, str]]:
    """The move to ``Đang xử lý``: same day for quick ones, else the next working day."""
    day = received.date()
    if until <= day:
        return []
    start = cal.add(day, 1) if rng.random() < 0.6 else day
    return [(moment_after(rng, received, start), "process")]


def _resolved_steps(
    rng: random.Random,
    plan: DossierPlan,
    cal: WorkCalendar,
    profile: UnitProfile,
    close_before: date | None,
) -> list[tuple[datetime, str]]:
    """Steps of a dossier that gets its result: timing, supplement, apology, return."""
    day, p = plan.received.date(), plan.procedure.days
    assert plan.due is not None
    roll = rng.random()
    if roll < profile.late_share:
        done = cal.add(plan.due, rng.choice(LATE_STEPS))
    elif p > 0 and roll < profile.late_share + profile.early_share:
        done = cal.add(day, rng.randrange(p))
    else:
        done = plan.due
    if close_before is not None and done >= close_before:
        done = max(day, cal.on_or_before(close_before - timedelta(days=1)))
    return timeline_steps(rng, plan, cal, done, profile.supplement_share, close_before is None)


def timeline_steps(
    rng: random.Random,
    plan: DossierPlan,
    cal: WorkCalendar,
    done: date | None,
    supplement_share: float,
    allow_blank_result: bool,
    apology: str | None = None,
    after_done: date | None = None,
) -> list[tuple[datetime, str]]:
    """Steps from reception to ``done`` (``None``: still open), plus apology and return.

    ``apology``: ``"compliant"``, ``"late"`` (issued after due), ``"no_new_date"``,
    ``"early_notice"`` (before due, on a dossier that is not late), ``"none"``, or
    ``None`` to draw one. ``after_done`` bounds the steps of an open dossier (its
    cut-off); it may be a non-working day.
    """
    received, day = plan.received, plan.received.date()
    assert plan.due is not None
    last_day = done if done is not None else cal.on_or_before(max(after_done or day, day))
    steps: list[tuple[datetime, str]] = [(received, "receive")]
    steps += processing_steps(rng, received, max(last_day, day), cal)
    prev = steps[-1][0]
    if cal.count(day, last_day) >= 4 and rng.random() < supplement_share:
        gap = cal.between(cal.add(day, 1), cal.add(last_day, -1))
        s0 = rng.choice(gap[: max(1, len(gap) - 1)])
        steps.append((moment_after(rng, prev, s0), "supplement"))
        later = [d for d in gap if d > s0]
        if later:  # else: still waiting for the applicant's documents
            steps.append((office_time(rng, rng.choice(later)), "resume"))
    if done is not None:
        late = done > plan.due
        kind = apology if apology is not None else _draw_apology(rng, late)
        _add_apology(rng, plan, cal, steps, kind, done)
        _add_result(rng, plan, cal, steps, done, allow_blank_result)
    elif apology:
        _add_apology(rng, plan, cal, steps, apology, after_done)
    return steps


def _draw_apology(rng: random.Random, late: bool) -> str:
    roll = rng.random()
    if not late:
        return "early_notice" if roll < 0.02 else "none"
    if roll < 0.45:
        return "compliant"
    if roll < 0.65:
        return "late"
    if roll < 0.75:
        return "no_new_date"
    return "none"


def _add_apology(
    rng: random.Random,
    plan: DossierPlan,
    cal: WorkCalendar,
    steps: list[tuple[datetime, str]],
    kind: str,
    done: date | None,
) -> None:
    """Add the apology letter step (``Ngày xin lỗi`` / ``Ngày hẹn trả lại``)."""
    if kind == "none":
        return
    due = plan.due
    assert due is not None
    day = plan.received.date()
    if kind in ("compliant", "no_new_date", "early_notice"):
        # On or before due, and never after the result: the letter must not delay it.
        first = max(day, cal.add(due, -2))
        choices = cal.between(first, due if done is None else min(due, done))
        if not choices:
            return
        when = rng.choice(choices)
    else:  # "late": issued after the due date, too late to count
        last = done if done is not None else cal.add(due, 3)
        choices = cal.between(cal.add(due, 1), last)
        if not choices:
            return
        when = rng.choice(choices)
    at = office_time(rng, when)
    if when == day:
        at = moment_after(rng, plan.received, when)
    plan.apology_at = at
    plan.apology_due = None if kind == "no_new_date" else cal.add(due, rng.randint(1, 5))
    steps.append((at, "apology"))


def _add_result(
    rng: random.Random,
    plan: DossierPlan,
    cal: WorkCalendar,
    steps: list[tuple[datetime, str]],
    done: date,
    allow_blank_result: bool,
) -> None:
    """Result on ``done``; then, usually, the return to the citizen a little later."""
    prev = max(at for at, _ in steps)
    result_at = (
        moment_after(rng, prev, done)
        if done == prev.date()
        else office_time(rng, done, time(17, 0))
    )
    if result_at <= prev:
        result_at = prev + timedelta(minutes=5)
    if result_at.date() != done:  # a planned outcome class must never shift silently
        raise AssertionError(f"result planned on {done} lands on {result_at.date()}")
    if allow_blank_result and rng.random() < 0.04:
        plan.result_blank = True
        plan.result_at = result_at
        plan.returned_at = result_at
        steps.append((result_at, "return"))
        return
    plan.result_at = result_at
    steps.append((result_at, "result"))
    if rng.random() < 0.06:
        return  # the citizen never came back for it
    wait = rng.choice((0, 0, 0, 0, 1, 1, 2, 3, 5))
    back = cal.add(done, wait)
    returned_at = moment_after(rng, result_at, back)
    plan.returned_at = returned_at
    steps.append((returned_at, "return"))


# --- rendering --------------------------------------------------------------------------
def fmt_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def fmt_moment(at: datetime, style: str) -> str:
    """A date-time column in the file's ``date_style``."""
    if style == "date":
        return fmt_date(at.date())
    if style == "seconds":
        return f"{fmt_date(at.date())} {at.hour:02d}:{at.minute:02d}:{at.second:02d}"
    return f"{fmt_date(at.date())} {at.hour:02d}:{at.minute:02d}"


def fmt_day(day: date, style: str) -> str:
    """A due-type date (no time in the source) in the file's style."""
    if style == "date":
        return fmt_date(day)
    if style == "seconds":
        return f"{fmt_date(day)} {DUE_TIME.hour:02d}:{DUE_TIME.minute:02d}:00"
    return f"{fmt_date(day)} {DUE_TIME.hour:02d}:{DUE_TIME.minute:02d}"


def fmt_updated(at: datetime) -> str:
    """``Cập nhật lúc`` is always ``dd/mm/yyyy HH:MM:SS``."""
    return f"{fmt_date(at.date())} {at.hour:02d}:{at.minute:02d}:{at.second:02d}"


def channel_text(channel: int, style: str, code: str) -> str:
    if style == "codes" or (style == "mixed" and code[-1] in "02468"):
        return str(channel)
    return cat.CHANNEL_WORDS[channel]


def render(plan: DossierPlan, ev: Event, contact: Contact, variant: FileVariant) -> list[str]:
    """The contract row of ``plan`` in state ``ev`` (contract column order)."""
    style = variant.date_style
    unit = plan.unit
    return [
        plan.code,
        unit.code,
        unit.short_name if variant.unit_name_style == "short" else unit.name,
        plan.procedure.code,
        plan.procedure.name,
        plan.procedure.sector,
        channel_text(plan.channel, variant.channel_style, plan.code),
        plan.place,
        fmt_moment(plan.received, style),
        fmt_day(plan.due, style) if plan.due is not None else "",
        fmt_moment(plan.result_at, style)
        if ev.show_result and plan.result_at is not None and not plan.result_blank
        else "",
        fmt_moment(plan.returned_at, style)
        if ev.show_returned and plan.returned_at is not None
        else "",
        ev.status,
        fmt_moment(plan.apology_at, style)
        if ev.show_apology and plan.apology_at is not None
        else "",
        fmt_day(plan.apology_due, style)
        if ev.show_apology and plan.apology_due is not None
        else "",
        contact.name,
        contact.address,
        contact.phone,
        contact.email,
        fmt_updated(ev.at),
    ]
