"""File-format variants of docs/sources.md and a planner that guarantees each one occurs.

Every export file gets one ``FileVariant``. The planner first hands out the
values no file has used yet (so even a small inbox contains every variant),
then draws by weight, all from its own seeded stream.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Literal

Source = Literal["onestop", "survey"]

# (value, weight) per dimension; the first value is the "plain" export.
CONTAINERS = (("csv-utf8", 45), ("csv-utf8-bom", 15), ("csv-win1258", 17), ("xlsx", 23))
NORMALIZATIONS = (("NFC", 78), ("NFD", 22))
COLUMN_ORDERS = (("canonical", 75), ("shuffled", 25))
EXTRAS = (("none", 40), ("stt", 45), ("stt+notes", 15))
HEADER_STYLES = (("canonical", 55), ("upper", 12), ("lower", 12), ("padded", 11), ("title", 10))
LINE_ENDINGS = (("crlf", 80), ("lf", 20))
CHANNEL_STYLES = (("words", 68), ("codes", 27), ("mixed", 5))
DATE_STYLES = (("minutes", 50), ("date", 30), ("seconds", 20))
UNIT_NAME_STYLES = (("full", 80), ("short", 20))
ANSWER_STYLES = (("numbers", 45), ("labels", 40), ("mixed", 15))

EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {
    "none": (),
    "stt": ("STT",),
    "stt+notes": ("STT", "Ghi chú", "Cán bộ tiếp nhận"),
}


@dataclass(frozen=True)
class FileVariant:
    """How one file is written. ``layout`` lists header slots in file order.

    A slot is a contract column index (``int``) or an extra column name
    (``str``). ``encoding``/``line_ending`` are ``None`` for XLSX;
    ``normalization`` is ``"cp1258"`` for Windows-1258 files (tone marks are
    always decomposed there).
    """

    container: str
    normalization: str
    column_order: str
    extras: str
    header_style: str
    line_ending: str | None
    channel_style: str
    date_style: str
    unit_name_style: str
    answer_style: str
    layout: tuple[int | str, ...] = field(default=())

    @property
    def is_xlsx(self) -> bool:
        return self.container == "xlsx"

    @property
    def extension(self) -> str:
        return "xlsx" if self.is_xlsx else "csv"

    @property
    def encoding(self) -> str | None:
        return {"csv-utf8": "utf-8", "csv-utf8-bom": "utf-8-sig", "csv-win1258": "cp1258"}.get(
            self.container
        )

    def describe(self, source: Source) -> dict[str, object]:
        """The manifest's view: only the dimensions that apply to ``source``."""
        data = asdict(self)
        data.pop("layout")
        data["encoding"] = self.encoding
        if source == "survey":
            for key in ("channel_style", "date_style", "unit_name_style"):
                data.pop(key)
        else:
            data.pop("answer_style")
        return data


# Dimensions that apply per source; the others are fixed to their plain value.
_DIMENSIONS: dict[Source, dict[str, tuple[tuple[str, int], ...]]] = {
    "onestop": {
        "container": CONTAINERS,
        "normalization": NORMALIZATIONS,
        "column_order": COLUMN_ORDERS,
        "extras": EXTRAS,
        "header_style": HEADER_STYLES,
        "line_ending": LINE_ENDINGS,
        "channel_style": CHANNEL_STYLES,
        "date_style": DATE_STYLES,
        "unit_name_style": UNIT_NAME_STYLES,
    },
    "survey": {
        "container": CONTAINERS,
        "normalization": NORMALIZATIONS,
        "column_order": COLUMN_ORDERS,
        "extras": EXTRAS,
        "header_style": HEADER_STYLES,
        "line_ending": LINE_ENDINGS,
        "answer_style": ANSWER_STYLES,
    },
}


class VariantPlanner:
    """Hands out variants: unused values first, then weighted draws."""

    def __init__(self, source: Source, rng: random.Random, n_columns: int) -> None:
        self.source = source
        self.rng = rng
        self.n_columns = n_columns
        self.dims = _DIMENSIONS[source]
        self.unused: dict[str, list[str]] = {
            k: [v for v, _ in vals] for k, vals in self.dims.items()
        }

    def _pick(self, dim: str, applies: bool = True) -> str:
        values = self.dims[dim]
        if not applies:
            return values[0][0]
        pending = self.unused[dim]
        if pending:
            choice = pending.pop(self.rng.randrange(len(pending)))
        else:
            choice = self.rng.choices([v for v, _ in values], [w for _, w in values])[0]
            if choice in pending:
                pending.remove(choice)
        return choice

    def plain(self) -> FileVariant:
        """The plainest export (used by the bench and as a default)."""
        return self._build({k: vals[0][0] for k, vals in self.dims.items()})

    def next(self, allow_xlsx: bool = True) -> FileVariant:
        """The variant of the next file (``allow_xlsx=False`` for very large files)."""
        container = self._pick("container")
        if container == "xlsx" and not allow_xlsx:
            self.unused["container"].append("xlsx")  # still owed to a later, smaller file
            csv_only = [(v, w) for v, w in self.dims["container"] if v != "xlsx"]
            container = self.rng.choices([v for v, _ in csv_only], [w for _, w in csv_only])[0]
        chosen: dict[str, str] = {"container": container}
        for dim in self.dims:
            if dim == "container":
                continue
            applies = True
            if dim == "normalization":
                applies = container != "csv-win1258"
            elif dim == "line_ending":
                applies = container != "xlsx"
            chosen[dim] = self._pick(dim, applies)
        if container == "csv-win1258":
            chosen["normalization"] = "cp1258"
        return self._build(chosen)

    def _build(self, chosen: dict[str, str]) -> FileVariant:
        order: list[int | str] = list(range(self.n_columns))
        if chosen["column_order"] == "shuffled":
            self.rng.shuffle(order)
        extras = EXTRA_COLUMNS[chosen["extras"]]
        for name in extras[1:]:
            order.insert(self.rng.randrange(len(order) + 1), name)
        if extras:
            order.insert(0, extras[0])  # STT is always first, as the exports have it
        return FileVariant(
            container=chosen["container"],
            normalization=chosen["normalization"],
            column_order=chosen["column_order"],
            extras=chosen["extras"],
            header_style=chosen["header_style"],
            line_ending=None if chosen["container"] == "xlsx" else chosen["line_ending"],
            channel_style=chosen.get("channel_style", "words"),
            date_style=chosen.get("date_style", "minutes"),
            unit_name_style=chosen.get("unit_name_style", "full"),
            answer_style=chosen.get("answer_style", "numbers"),
            layout=tuple(order),
        )


def style_header(name: str, style: str) -> str:
    """A header as an export might spell it (case and outer spaces only)."""
    if style == "upper":
        return name.upper()
    if style == "lower":
        return name.lower()
    if style == "padded":
        return f"  {name} "
    if style == "title":
        return name.title()
    return name
