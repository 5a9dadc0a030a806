"""The optional columns of newer exports (docs/sources.md §1; the 766 index, docs/index766.md).

Which files carry them, and each row's values, are decided by hashing (the
seed with the file name, or with the dossier code), never by the generator's
random streams: an inbox with them holds exactly the dossiers, variants and
junk rows of one without, so every figure pinned before stays where it was.
Older exports (before ``GeneratorConfig.optional_columns_from``) and
header-only files never carry them (a re-sent header-only file must stay
byte-identical to the first one); of the others, some carry none, some all
but ``Đánh giá``, most all five. A value is now and then malformed, which the
warehouse reports as a data-quality finding.
"""

from __future__ import annotations

import hashlib
from datetime import date

from motcua import vocabularies as vocab
from motcua_dev.generator import catalog as cat
from motcua_dev.generator.dossiers import DossierPlan, Event

OPTIONAL_HEADERS: tuple[str, ...] = (
    "Kết quả điện tử",
    "Số hóa hồ sơ",
    "Phí, lệ phí",
    "Thanh toán trực tuyến",
    "Đánh giá",
)
E_RESULT, DIGITISED, FEE, PAID_ONLINE, RATING = range(len(OPTIONAL_HEADERS))

YES_WORDS = ("Có", "Có", "Có", "có", "x", "1", "TRUE")
NO_WORDS = ("Không", "Không", "", "0", "không")
FEES = ("20000", "50.000", "100.000", "35000", "8,000")
RATINGS = (  # (label, cumulative share): the portal rates with the survey's answer labels
    (vocab.value("survey_answer", "very_satisfied"), 0.30),
    (vocab.value("survey_answer", "satisfied"), 0.70),
    (vocab.value("survey_answer", "neutral"), 0.85),
    (vocab.value("survey_answer", "dissatisfied"), 0.95),
    (vocab.value("survey_answer", "very_dissatisfied"), 1.0),
)
# one value in MALFORMED_EVERY rows of a carrying file is outside its column's vocabulary
MALFORMED_EVERY = 150
MALFORMED = ("chưa rõ", "chưa rõ", "50k", "?", "Tốt")


def share(*parts: object) -> float:
    """A stable number in [0, 1) for ``parts`` (SHA-256, so the same on every platform)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def file_columns(seed: int, name: str, day: date, since: date | None, rows: int) -> tuple[int, ...]:
    """Indexes into OPTIONAL_HEADERS of the columns the file ``name`` carries."""
    if since is None or day < since or rows == 0:
        return ()
    draw = share(seed, "optional-file", name)
    if draw < 0.25:
        return ()
    if draw < 0.45:
        return (E_RESULT, DIGITISED, FEE, PAID_ONLINE)
    return (E_RESULT, DIGITISED, FEE, PAID_ONLINE, RATING)


def _word(words: tuple[str, ...], *parts: object) -> str:
    return words[int(share(*parts) * len(words))]


def procedure_fee(seed: int, procedure: cat.Procedure) -> str:
    """The fee of a procedure: about 40 % have one (text as exports write it)."""
    if share(seed, "fee", procedure.code) < 0.4:
        return _word(FEES, seed, "fee-amount", procedure.code)
    return _word(("", "0", ""), seed, "no-fee", procedure.code)


def row_values(seed: int, plan: DossierPlan, ev: Event) -> list[str]:
    """The five optional values of ``plan`` in state ``ev`` (OPTIONAL_HEADERS order).

    Stable per dossier (the same in every file that carries its state), the
    rating appearing once the result is returned.
    """
    code = plan.code
    has_result = ev.show_result or ev.show_returned
    yes = share(seed, "e-result", code) < 0.7
    e_result = _word(YES_WORDS if yes else NO_WORDS, seed, "e-result-word", code)
    digitised_yes = share(seed, "digitised", code) < 0.6
    digitised = _word(YES_WORDS if digitised_yes else NO_WORDS, seed, "digitised-word", code)
    fee = procedure_fee(seed, plan.procedure)
    paid = ""
    if fee not in ("", "0"):
        online = share(seed, "paid", code) < (0.8 if plan.channel == 2 else 0.15)
        paid = _word(YES_WORDS if online else NO_WORDS, seed, "paid-word", code)
    rating = ""
    if ev.status == cat.ST_RETURNED and share(seed, "rated", code) < 0.5:
        draw = share(seed, "rating", code)
        rating = next(label for label, upto in RATINGS if draw < upto)
    values = [e_result if has_result else "", digitised, fee, paid, rating]
    if share(seed, "malformed", code, ev.status) < 1 / MALFORMED_EVERY:
        column = int(share(seed, "malformed-column", code) * len(values))
        values[column] = MALFORMED[column]
    return values
