"""The 766 index computed in plain Python from the raw rows, to check the marts against.

Independent of the SQL: it reads the raw text of the rows the quarantine let
through (``raw.onestop_rows`` joined to the valid keys of
``int_onestop__rows_checked``, the one thing taken from dbt), picks each
dossier's state by the tie rule of docs/sources.md, and applies docs/rules.md and
docs/index766.md with ``Decimal`` arithmetic, rounding half away from zero.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ROWS_SQL = """
    select r.file_id, r.file_name, r.row_number, r.dossier_code, r.unit_code, r.channel,
           r.received_at, r.due_at, r.result_at, r.returned_at, r.status, r.updated_at,
           r.e_result, r.digitised, r.fee, r.paid_online, r.rating
    from raw.onestop_rows as r
    inner join intermediate.int_onestop__rows_checked as c
        on r.file_id = c.file_id and r.row_number = c.row_number
    where c.is_valid
"""

YES = {"có", "x", "1", "true"}
WITHDRAWN = {"Đã rút", "Từ chối tiếp nhận", "Dừng xử lý"}
CHANNELS = {"trực tiếp": "direct", "1": "direct", "trực tuyến": "online", "2": "online"}
CHANNELS |= {"bưu chính công ích": "postal", "3": "postal"}
FEE = re.compile(r"^(\d+|\d{1,3}([.,]\d{3})+)$")
POINTS = {  # code: (scale, target, cap)
    "progress_on_time": (20, Decimal(1), None),
    "e_result": (6, Decimal(1), 6),
    "digitised": (4, Decimal(1), 4),
    "online_payment": (6, Decimal(1), None),
    "handling_satisfaction": (6, Decimal("0.90"), 6),
}


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = unicodedata.normalize("NFC", value).strip()
    return cleaned or None


def _when(value: str | None) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    for fmt in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise AssertionError(f"the generator wrote a date the reference cannot read: {text!r}")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def _yes(value: str | None) -> bool:
    text = _text(value)
    return text is not None and text.lower() in YES


@dataclass(frozen=True)
class Dossier:
    commune: str
    channel: str | None
    received: date
    due: date | None
    done: date | None
    withdrawn: bool
    e_result: bool
    e_result_supplied: bool
    digitised: bool
    digitised_supplied: bool
    has_fee: bool
    paid_online: bool
    payment_supplied: bool
    dissatisfied: bool
    rating_supplied: bool


def current_dossiers(rows: list[dict[str, Any]]) -> list[Dossier]:
    """Each dossier's state: latest Cập nhật lúc, then file name (bytes), row, file."""
    latest: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {}
    for row in rows:
        key = (
            _when(row["updated_at"]),
            row["file_name"].encode(),
            row["row_number"],
            row["file_id"],
        )
        code = _text(row["dossier_code"])
        assert code is not None
        if code not in latest or key > latest[code][0]:
            latest[code] = (key, row)
    return [_dossier(row) for _, row in latest.values()]


def _dossier(row: dict[str, Any]) -> Dossier:
    received = _when(row["received_at"])
    assert received is not None
    due = _when(row["due_at"])
    done = _when(row["result_at"]) or _when(row["returned_at"])
    fee_text = _text(row["fee"])
    fee = fee_text is not None and FEE.match(fee_text) is not None
    has_fee = fee and int(re.sub(r"[.,]", "", fee_text or "0")) > 0
    rating = _text(row["rating"])
    channel = _text(row["channel"])
    return Dossier(
        commune=(_text(row["unit_code"]) or "").zfill(5),
        channel=CHANNELS.get(channel.lower()) if channel else None,
        received=received.date(),
        due=due.date() if due else None,
        done=done.date() if done else None,
        withdrawn=_text(row["status"]) in WITHDRAWN,
        e_result=_yes(row["e_result"]),
        e_result_supplied=row["e_result"] is not None,
        digitised=_yes(row["digitised"]),
        digitised_supplied=row["digitised"] is not None,
        has_fee=has_fee,
        paid_online=_yes(row["paid_online"]),
        payment_supplied=row["fee"] is not None and row["paid_online"] is not None,
        dissatisfied=rating is not None
        and _plain(rating) in ("khong hai long", "rat khong hai long"),
        rating_supplied=row["rating"] is not None,
    )


def periods(first: date, run_date: date) -> list[tuple[str, date, date]]:
    """(type, start, cut-off) of every period from the one holding ``first`` to run_date."""
    found = []
    for period_type, months in (("month", 1), ("quarter", 3), ("half_year", 6), ("year", 12)):
        start = date(first.year, (first.month - 1) // months * months + 1, 1)
        while start <= run_date:
            month = start.month - 1 + months
            end = date(start.year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
            found.append((period_type, start, min(end, run_date)))
            start = end + timedelta(days=1)
    return found


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def indicator(
    code: str, num: int, den: int, population: int, supplied: int | None
) -> dict[str, Any]:
    """One row of commune_index_766 for a computed indicator."""
    reason = None
    if supplied == 0 and population > 0:
        reason = "column not supplied"
    elif den == 0:
        reason = "no dossiers"
    rate = points = None
    if reason is None:
        rate = _round(Decimal(100 * num) / den)
        if code in POINTS:
            scale, target, cap = POINTS[code]
            value = Decimal(scale * num) / (den * target)
            points = _round(min(value, Decimal(cap)) if cap is not None else value)
    return {
        "numerator": num,
        "denominator": den,
        "rate": rate,
        "points": points,
        "is_applicable": reason is None,
        "reason": reason,
    }


def expected_index(dossiers: list[Dossier], run_date: date) -> dict[tuple[str, ...], dict]:
    """(commune, period type, period start, indicator) -> the row the mart must hold."""
    by_commune: dict[str, list[Dossier]] = defaultdict(list)
    for dossier in dossiers:
        by_commune[dossier.commune].append(dossier)
    first = min(d.received for d in dossiers)
    expected: dict[tuple[str, ...], dict] = {}
    for period_type, start, cut_off in periods(first, run_date):
        for commune, own in by_commune.items():
            rows = _period_rows(own, start, cut_off)
            for code, row in rows.items():
                expected[(commune, period_type, start.isoformat(), code)] = row
    return expected


def _period_rows(own: list[Dossier], start: date, cut_off: date) -> dict[str, dict]:
    received = [d for d in own if start <= d.received <= cut_off]
    resolved = [d for d in own if not d.withdrawn and d.done and start <= d.done <= cut_off]
    in_progress = [
        d
        for d in own
        if d.received <= cut_off and not d.withdrawn and (d.done is None or d.done > cut_off)
    ]
    on_time_open = [d for d in in_progress if not (d.due is not None and d.due < cut_off)]
    not_late = [d for d in resolved if d.done and d.due and d.done <= d.due]
    late = len(resolved) - len(not_late)
    with_fee = [d for d in received if d.has_fee]
    dissatisfied_not_late = sum(1 for d in not_late if d.dissatisfied)
    satisfaction = indicator(
        "handling_satisfaction",
        len(resolved) - late - dissatisfied_not_late,
        len(resolved),
        len(resolved),
        None,
    )
    if satisfaction["is_applicable"] and not any(d.rating_supplied for d in resolved):
        satisfaction["reason"] = "ratings not supplied: from lateness alone"
    n_received = len(received)
    return {
        "progress_on_time": indicator(
            "progress_on_time",
            len(not_late) + len(on_time_open),
            len(resolved) + len(in_progress),
            len(resolved) + len(in_progress),
            None,
        ),
        **{
            f"{channel}_share": indicator(
                f"{channel}_share",
                sum(1 for d in received if d.channel == channel),
                n_received,
                n_received,
                None,
            )
            for channel in ("online", "direct", "postal")
        },
        "e_result": indicator(
            "e_result",
            sum(1 for d in resolved if d.e_result),
            len(resolved),
            len(resolved),
            sum(1 for d in resolved if d.e_result_supplied),
        ),
        "digitised": indicator(
            "digitised",
            sum(1 for d in received if d.digitised),
            n_received,
            n_received,
            sum(1 for d in received if d.digitised_supplied),
        ),
        "online_payment": indicator(
            "online_payment",
            sum(1 for d in with_fee if d.paid_online),
            len(with_fee),
            n_received,
            sum(1 for d in received if d.payment_supplied),
        ),
        "handling_satisfaction": satisfaction,
    }
