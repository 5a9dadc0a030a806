"""Build the dossiers a ``LatenessPin`` asks for, and check them against docs/rules.md.

Each pinned dossier gets an outcome class first and then dates drawn to
satisfy it (received, due = received + processing days, done), so the
counts are exact whatever the seed. ``classify`` re-derives the classes from
the finished plans with the docs/rules.md definitions; the engine asserts that
both agree before writing anything.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta

from motcua_dev.generator import catalog as cat
from motcua_dev.generator.contacts import completed, make_contact
from motcua_dev.generator.dossiers import (
    LATE_STEPS,
    DossierPlan,
    UnitProfile,
    apply_contact_change,
    assemble,
    moment_after,
    office_time,
    pick_channel,
    pick_procedure,
    processing_steps,
    timeline_steps,
)
from motcua_dev.generator.scenario import LatenessPin, ScenarioError, cutoff_of
from motcua_dev.generator.units import Unit
from motcua_dev.generator.workdays import WorkCalendar

ATTEMPTS = 5000
CARRY_WINDOW_DAYS = 45  # carried-over dossiers are received at most this long before the period
ACTIVE_CLASSES = (
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "in_progress_on_time",
    "in_progress_overdue",
)
# Which classes are taken first as carried over: the ones that are feasible for any period.
CARRY_PREFERENCE = {
    "resolved_late": 0,
    "resolved_on_time": 0,
    "resolved_early": 0,
    "in_progress_overdue": 0,
    "in_progress_on_time": 1,
}


class PinContext:
    """Calendar, dates and random stream shared by the dossiers of one pin."""

    def __init__(
        self,
        pin: LatenessPin,
        unit: Unit,
        cal: WorkCalendar,
        rng: random.Random,
        gen_start: date,
        gen_end: date,
        run_date: date,
        profile: UnitProfile,
    ) -> None:
        self.pin, self.unit, self.cal, self.rng = pin, unit, cal, rng
        self.gen_end, self.profile = gen_end, profile
        self.start = pin.period_start
        self.cutoff = cutoff_of(pin.period_start, pin.period_end, run_date)
        if self.cutoff > gen_end:
            raise ScenarioError(f"{unit.code}: cut-off {self.cutoff} after the generated range")
        if pin.period_start < gen_start:
            raise ScenarioError(f"{unit.code}: pinned period starts before the generated range")
        self.in_period = cal.between(pin.period_start, self.cutoff)
        self.receivable = cal.between(pin.period_start, min(pin.period_end, gen_end))
        first_pre = max(gen_start, pin.period_start - timedelta(days=CARRY_WINDOW_DAYS))
        self.pre_period = cal.between(first_pre, pin.period_start - timedelta(days=1))
        if not self.in_period:
            raise ScenarioError(f"{unit.code}: no working day between period start and cut-off")

    def received_ok(self, received: date, carried: bool) -> bool:
        if carried:
            return bool(self.pre_period) and self.pre_period[0] <= received < self.start
        return self.start <= received <= self.cutoff

    def search(
        self, what: str, draw: Callable[[], tuple[cat.Procedure, date, date] | None]
    ) -> tuple[cat.Procedure, date, date]:
        for _ in range(ATTEMPTS):
            found = draw()
            if found is not None:
                return found
        raise ScenarioError(f"{self.unit.code}: cannot place a {what} dossier in the period")


def _draw_resolved(
    ctx: PinContext, klass: str, carried: bool
) -> tuple[cat.Procedure, date, date] | None:
    """(procedure, received, done) with done in the period and the class's done/due order."""
    rng, cal = ctx.rng, ctx.cal
    pool = ctx.in_period[:25] if carried else ctx.in_period
    done = rng.choice(pool)
    proc = pick_procedure(rng, 1 if klass == "resolved_early" else 0)
    p = proc.days
    if klass == "resolved_on_time":
        received = cal.add(done, -p)
    elif klass == "resolved_early":
        received = cal.add(done, -rng.randrange(p))
    else:
        received = cal.add(cal.add(done, -rng.choice(LATE_STEPS)), -p)
    return (proc, received, done) if ctx.received_ok(received, carried) else None


def _draw_in_progress(
    ctx: PinContext, klass: str, carried: bool
) -> tuple[cat.Procedure, date, date] | None:
    """(procedure, received, due) open at the cut-off; overdue means due < cut-off."""
    rng, cal = ctx.rng, ctx.cal
    proc = pick_procedure(rng)
    pool = ctx.pre_period if carried else ctx.in_period
    if not pool:
        return None
    if klass == "in_progress_on_time":
        pool = pool[-(proc.days + 1) :]
    received = rng.choice(pool)
    due = cal.add(received, proc.days)
    overdue = due < ctx.cutoff
    if overdue != (klass == "in_progress_overdue"):
        return None
    return (proc, received, due) if ctx.received_ok(received, carried) else None


def _base_plan(ctx: PinContext, proc: cat.Procedure, received_day: date) -> DossierPlan:
    rng = ctx.rng
    received = office_time(rng, received_day)
    plan = DossierPlan(ctx.unit, proc, cat.CH_DIRECT, cat.PLACE_DESK, received, None, pinned=True)
    plan.due = ctx.cal.add(received_day, proc.days)
    return plan


def _active_plan(ctx: PinContext, klass: str, carried: bool, apology: str) -> DossierPlan:
    """One resolved or in-progress pinned dossier (events included)."""
    rng, cal = ctx.rng, ctx.cal
    if klass.startswith("resolved"):
        proc, received, done = ctx.search(klass, lambda: _draw_resolved(ctx, klass, carried))
        plan = _base_plan(ctx, proc, received)
        steps = timeline_steps(rng, plan, cal, done, ctx.profile.supplement_share, True, apology)
    else:
        proc, received, _ = ctx.search(klass, lambda: _draw_in_progress(ctx, klass, carried))
        plan = _base_plan(ctx, proc, received)
        later = cal.between(ctx.cutoff + timedelta(days=1), ctx.gen_end)
        if later and rng.random() < 0.6:
            # Resolved after the cut-off: still "in progress at the cut-off" by docs/rules.md.
            done = rng.choice(later)
            steps = timeline_steps(
                rng, plan, cal, done, ctx.profile.supplement_share, True, apology
            )
        else:
            steps = timeline_steps(
                rng,
                plan,
                cal,
                None,
                ctx.profile.supplement_share,
                False,
                apology or "none",
                after_done=ctx.cutoff,
            )
    plan.events = assemble(steps, ctx.gen_end, make_contact(rng, ctx.unit, ctx.profile.contact))
    return plan


def _out_plan(ctx: PinContext) -> DossierPlan:
    """A pinned dossier withdrawn, refused or stopped, received in the period."""
    rng, cal = ctx.rng, ctx.cal
    plan = _base_plan(ctx, pick_procedure(rng), rng.choice(ctx.receivable))
    day = plan.received.date()
    kind = rng.choices(("withdraw", "refuse", "stop"), (5, 3, 2))[0]
    if kind == "refuse":
        steps = [(plan.received, "refuse")]
        if rng.random() < 0.6:
            plan.due = None
    else:
        end_choices = cal.between(day, min(ctx.gen_end, cal.add(day, 5)))
        end_day = rng.choice(end_choices)
        steps = [(plan.received, "receive")]
        steps += processing_steps(rng, plan.received, end_day, cal)
        steps.append((moment_after(rng, steps[-1][0], end_day), kind))
    plan.events = assemble(steps, ctx.gen_end, make_contact(rng, ctx.unit, ctx.profile.contact))
    if plan.events[-1].status not in cat.TERMINAL_OUT:
        raise ScenarioError(f"{ctx.unit.code}: withdrawal falls after the generated range")
    return plan


def build_pinned_plans(
    pin: LatenessPin,
    unit: Unit,
    cal: WorkCalendar,
    rng: random.Random,
    gen_start: date,
    gen_end: date,
    run_date: date,
    profile: UnitProfile,
) -> list[DossierPlan]:
    """All dossiers of ``pin``, sorted by reception; raises ScenarioError if infeasible."""
    ctx = PinContext(pin, unit, cal, rng, gen_start, gen_end, run_date, profile)
    classes = [k for k in ACTIVE_CLASSES for _ in range(getattr(pin, k))]
    order = list(range(len(classes)))
    rng.shuffle(order)
    order.sort(key=lambda i: CARRY_PREFERENCE[classes[i]])
    carried = set(order[: pin.carried_over])
    late_idx = [i for i, k in enumerate(classes) if k in ("resolved_late", "in_progress_overdue")]
    rng.shuffle(late_idx)
    compliant = set(late_idx[: pin.late_with_apology])
    plans: list[DossierPlan] = []
    for i, klass in enumerate(classes):
        if i in compliant:
            apology = "compliant"
        elif i in late_idx:
            apology = rng.choice(("none", "none", "late", "no_new_date"))
        else:
            apology = "none"
        plans.append(_active_plan(ctx, klass, i in carried, apology))
    plans += [_out_plan(ctx) for _ in range(pin.withdrawn_or_refused)]
    _assign_channels_and_places(ctx, plans)
    for plan in plans:
        contact = plan.events[0].contact
        if not contact.complete and rng.random() < profile.contact_fix_share:
            apply_contact_change(rng, plan, completed(rng, unit, contact), False)
    plans.sort(key=lambda p: p.received)
    return plans


def _assign_channels_and_places(ctx: PinContext, plans: list[DossierPlan]) -> None:
    """Exactly the pinned online/postal/outside counts among dossiers received in the period."""
    rng, pin = ctx.rng, ctx.pin
    in_period = [p for p in plans if p.received.date() >= pin.period_start]
    rng.shuffle(in_period)
    for i, plan in enumerate(in_period):
        if i < pin.received_online:
            plan.channel = cat.CH_ONLINE
        elif i < pin.received_online + pin.received_postal:
            plan.channel = cat.CH_POSTAL
    rng.shuffle(in_period)
    for plan in in_period[: pin.received_outside_one_stop]:
        plan.place = cat.PLACE_SPECIALIST
    for plan in plans:
        if plan.received.date() < pin.period_start:
            plan.channel = pick_channel(rng, ctx.profile)


def has_compliant_apology(plan: DossierPlan) -> bool:
    """docs/rules.md: apology dated on or before due, with a new promised date."""
    last = plan.final
    return (
        last.show_apology
        and plan.apology_at is not None
        and plan.due is not None
        and plan.apology_at.date() <= plan.due
        and plan.apology_due is not None
    )


def classify(plan: DossierPlan, start: date, end: date, cutoff: date) -> Counter[str]:
    """docs/rules.md measures one dossier (in its final state) contributes to a period."""
    out: Counter[str] = Counter()
    received = plan.received.date()
    status = plan.final.status
    in_period = start <= received <= end
    if in_period:
        out["received_total"] += 1
        out[f"received_{cat.CHANNEL_KEYS[plan.channel]}"] += 1
        if plan.place != cat.PLACE_DESK:
            out["received_outside_one_stop"] += 1
        contact = plan.final_contact()
        out["contact_dossiers"] += 1
        out["address_present"] += contact.address_present
        out["phone_valid"] += contact.phone_valid
        out["email_valid"] += contact.email_valid
        out["contact_complete"] += contact.complete
    if status in cat.TERMINAL_OUT:
        out["withdrawn_or_refused"] += in_period
        return out
    done = plan.done_date()
    due = plan.due
    assert due is not None
    late = False
    if received < start and (done is None or done >= start):
        out["carried_over"] += 1
    if done is not None and start <= done <= end:
        klass = "early" if done < due else "on_time" if done == due else "late"
        out[f"resolved_{klass}"] += 1
        late = klass == "late"
    if received <= cutoff and (done is None or done > cutoff):
        klass = "overdue" if due < cutoff else "on_time"
        out[f"in_progress_{klass}"] += 1
        late = klass == "overdue"
    if late:
        out["late_total"] += 1
        out["late_with_apology"] += has_compliant_apology(plan)
    return out


def check_pin(pin: LatenessPin, plans: list[DossierPlan], run_date: date) -> Counter[str]:
    """Tally ``plans`` with ``classify`` and fail loudly if they differ from the pin."""
    cutoff = cutoff_of(pin.period_start, pin.period_end, run_date)
    total: Counter[str] = Counter()
    for plan in plans:
        total.update(classify(plan, pin.period_start, pin.period_end, cutoff))
    wanted = {
        name: getattr(pin, name)
        for name in (
            *ACTIVE_CLASSES,
            "withdrawn_or_refused",
            "carried_over",
            "received_online",
            "received_postal",
            "late_with_apology",
            "received_outside_one_stop",
        )
    }
    wanted["received_total"] = pin.received_total
    got = {name: total[name] for name in wanted}
    if got != wanted:
        raise AssertionError(f"pinned dossiers of {pin.commune_code} drifted: {got} != {wanted}")
    return total
