"""A stand-in for the one-stop-shop system's HTTP API, with switchable faults.

Serves the API that ``motcua.sources.api`` documents, on 127.0.0.1, over
deterministic synthetic dossiers (obviously fake names, ``0900xxxxxx``
phones, ``@example.vn`` emails), and can misbehave on demand so that the
connector's retries, de-duplication and watermark can be tested.

Endpoints
---------
``GET /api/v1/dossiers?changed_since=&page=&page_size=``
    The API: items with ``Cập nhật lúc`` >= ``changed_since``, ordered by
    (``Cập nhật lúc``, ``Mã hồ sơ``), offset-paginated (``page_size`` 1..1000,
    default 100). Bearer token checked when the server has one (else 401).
``POST /_faults`` ``{...}``
    Replace the fault settings (absent keys = off) and restart the request
    count. Keys: ``rate_limit_every`` n (every n-th request answers 429 with
    ``Retry-After: retry_after``, default 1 s), ``error_500_every`` n,
    ``error_500_on_page`` p (that page always fails), ``timeout_every`` n (the
    n-th request hangs ``timeout_seconds``, default 5, before answering),
    ``duplicate_across_pages`` (each page after the first repeats the last
    item of the page before), ``malformed_json_on_page`` p (truncated JSON),
    ``change_during_pull_after_page`` p (once: after serving page p, the
    first dossier of the listing changes, moving to the end and shifting the
    rest: what a live system does to offset pagination).
    Faults are checked in the order timeout, 500, 429 for each request.
``POST /_items`` ``{"items": [...]}``
    Upsert: an object with a known ``Mã hồ sơ`` is merged into that dossier,
    an unknown one is added as given. Without ``Cập nhật lúc`` the item is
    stamped now (later than its previous stamp). Anything else (a non-object,
    an object without ``Mã hồ sơ``) is served as is, stamped now.
``GET /_stats``, ``GET /_faults``, ``GET /healthz``.

Run: ``python -m motcua_dev.simulator --port 8765 [--items 500]
[--fault rate_limit_every=3 --fault duplicate_across_pages=true]``; from
tests: ``with Simulator(...) as sim: sim.base_url`` or ``with serve() as url``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from motcua import vocabularies
from motcua.sources.api import CODE_KEY, ENDPOINT, MAX_PAGE_SIZE, SOURCE_TZ, UPDATED_KEY

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
STAMP_FORMAT = "%d/%m/%Y %H:%M:%S"

UNITS = (
    ("22570", "Phường Ninh Đa"),
    ("22534", "Xã Ninh Tây"),
    ("22528", "Phường Ninh Hiệp"),
    ("22561", "Phường Ninh Diêm"),
    ("22603", "Xã Ninh Ích"),
)
# (code, name, sector, working days allowed) — codes are made up for the simulator
PROCEDURES = (
    ("SIM.HT.001", "Đăng ký khai sinh", "Hộ tịch", 1),
    ("SIM.HT.002", "Đăng ký kết hôn", "Hộ tịch", 5),
    ("SIM.CT.001", "Chứng thực bản sao từ bản chính", "Chứng thực", 1),
    ("SIM.DD.001", "Đăng ký biến động quyền sử dụng đất", "Đất đai", 10),
)
# the vocabularies' values (the dbt seed, motcua.vocabularies), channels also as numbers
CHANNELS = (*vocabularies.values("channel"), "1", "2")
STATUSES = tuple(
    vocabularies.value("status", role) for role in ("received", "processing", "result", "returned")
)
RESULT_STATUSES = vocabularies.values("status", category="result")
RETURNED = vocabularies.value("status", "returned")
PLACES = vocabularies.values("reception_place")  # the desk, then a specialist


def now_local() -> datetime:
    """The simulated source's clock: naive local time, whole seconds."""
    return datetime.now(SOURCE_TZ).replace(tzinfo=None, microsecond=0)


def parse_stamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    for fmt in (STAMP_FORMAT, "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return datetime.strptime(value.strip(), fmt)
        except ValueError:
            continue
    return None


def generate_items(count: int = 120, seed: int = 2017) -> list[dict[str, str]]:
    """``count`` synthetic dossiers received from January 2017, all keys present."""
    rng = random.Random(seed)
    clock = datetime(2017, 1, 3, 7, 30)
    items = []
    for i in range(1, count + 1):
        clock += timedelta(minutes=rng.randint(5, 120))
        if clock.hour >= 17 or clock.weekday() == 6:  # office hours, Monday to Saturday
            clock = (clock + timedelta(days=1 if clock.weekday() != 5 else 2)).replace(
                hour=7, minute=rng.randint(30, 59)
            )
        received = clock
        unit_code, unit_name = rng.choice(UNITS)
        proc_code, proc_name, sector, days = rng.choice(PROCEDURES)
        due = received + timedelta(days=days + 2 * (days // 5))
        status = rng.choices(STATUSES, weights=(1, 2, 2, 6))[0]
        result = returned = None
        if status in RESULT_STATUSES:
            result = received + timedelta(hours=rng.randint(2, 24 * (days + 3)))
        if status == RETURNED and result is not None:
            returned = result + timedelta(hours=rng.randint(1, 48))
        last = max(d for d in (received, result, returned) if d is not None)
        updated = last + timedelta(minutes=rng.randint(1, 30), seconds=rng.randint(0, 59))
        items.append(
            {
                CODE_KEY: f"SIM-{unit_code}-{received:%y%m%d}-{i:05d}",
                "Mã đơn vị": unit_code,
                "Tên đơn vị": unit_name,
                "Mã thủ tục": proc_code,
                "Tên thủ tục": proc_name,
                "Lĩnh vực": sector,
                "Kênh nộp": rng.choice(CHANNELS),
                "Nơi tiếp nhận": PLACES[1] if i % 17 == 0 else PLACES[0],
                "Ngày tiếp nhận": f"{received:%d/%m/%Y %H:%M}",
                "Ngày hẹn trả": f"{due:%d/%m/%Y}",
                "Ngày có kết quả": f"{result:%d/%m/%Y %H:%M}" if result else "",
                "Ngày trả kết quả": f"{returned:%d/%m/%Y %H:%M}" if returned else "",
                "Trạng thái": status,
                "Ngày xin lỗi": "",
                "Ngày hẹn trả lại": "",
                "Họ tên người nộp": f"Người Thử Nghiệm {i:04d}",
                "Địa chỉ": f"Số {i} đường Mẫu, {unit_name}",
                "Số điện thoại": "" if i % 11 == 0 else f"0900{i:06d}",
                "Email": "" if i % 7 == 0 else f"nguoithu{i:04d}@example.vn",
                UPDATED_KEY: updated.strftime(STAMP_FORMAT),
            }
        )
    return items


@dataclass
class Faults:
    rate_limit_every: int = 0
    retry_after: int = 1
    error_500_every: int = 0
    error_500_on_page: int = 0
    timeout_every: int = 0
    timeout_seconds: float = 5.0
    duplicate_across_pages: bool = False
    malformed_json_on_page: int = 0
    change_during_pull_after_page: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> Faults:
        if not isinstance(data, dict):
            raise ValueError("faults must be a JSON object")
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            kind = known[name]
            if kind == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            elif kind == "int" and value != int(value):
                raise ValueError(f"{name} must be a whole number")
            values[name] = int(value) if kind == "int" else value
        return cls(**values)


def _every(n: int, k: int) -> bool:
    return n > 0 and k % n == 0


class DossierStore:
    """The source's current dossier states, ordered like the API serves them."""

    def __init__(self, items: Iterable[Any] = ()) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[datetime, Any]] = {}
        self._raw = 0
        self.upsert(items)

    def __len__(self) -> int:
        return len(self._rows)

    def upsert(self, items: Iterable[Any]) -> list[str]:
        """Add or change items; return the ``Cập nhật lúc`` each got."""
        stamps = []
        with self._lock:
            for item in items:
                code = item.get(CODE_KEY) if isinstance(item, dict) else None
                if not isinstance(code, str) or not code:
                    self._raw += 1
                    stamp = now_local()
                    self._rows[f"~raw-{self._raw:06d}"] = (stamp, item)
                    stamps.append(stamp.strftime(STAMP_FORMAT))
                    continue
                previous = self._rows.get(code)
                merged = dict(previous[1]) if previous else {}
                merged.update(item)
                if UPDATED_KEY in item:
                    stamp = parse_stamp(item[UPDATED_KEY]) or now_local()
                else:
                    stamp = now_local()
                    if previous and stamp <= previous[0]:
                        stamp = previous[0] + timedelta(seconds=1)
                    merged[UPDATED_KEY] = stamp.strftime(STAMP_FORMAT)
                self._rows[code] = (stamp, merged)
                stamps.append(str(merged[UPDATED_KEY]))
        return stamps

    def touch_first(self, since: datetime | None) -> None:
        """Change the first dossier of the listing: it gets a new stamp and moves to the end."""
        for key, _item in self.listing(since):
            if not key.startswith("~"):
                self.upsert([{CODE_KEY: key}])
                return

    def listing(self, since: datetime | None) -> list[tuple[str, Any]]:
        with self._lock:
            rows = [
                (stamp, key, item)
                for key, (stamp, item) in self._rows.items()
                if since is None or stamp >= since
            ]
        rows.sort(key=lambda r: (r[0], r[1]))
        return [(key, item) for _stamp, key, item in rows]


class Simulator:
    """The server, startable in-process (``with Simulator() as sim``) or from the CLI."""

    def __init__(
        self,
        items: Iterable[Any] | None = None,
        *,
        count: int = 120,
        seed: int = 2017,
        faults: dict[str, Any] | None = None,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.store = DossierStore(generate_items(count, seed) if items is None else items)
        self.token = token
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.set_faults(faults or {})

    # -- control
    def set_faults(self, faults: dict[str, Any]) -> None:
        """Replace the faults and restart the request count."""
        parsed = Faults.from_dict(faults)
        with self._lock:
            self.faults = parsed
            self.requests = 0
            self.outcomes: Counter[str] = Counter()

    def upsert(self, items: Iterable[Any]) -> list[str]:
        return self.store.upsert(items)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "outcomes": dict(self.outcomes),
                "items": len(self.store),
            }

    # -- lifecycle
    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        self._stopping.clear()
        self._httpd = ThreadingHTTPServer((self.host, self.port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.simulator = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # quick shutdown for the tests
            name="motcua-api-simulator",
            daemon=True,
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers hanging in a timeout fault
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the API
    def _count(self) -> tuple[int, Faults]:
        with self._lock:
            self.requests += 1
            return self.requests, self.faults

    def _outcome(self, name: str) -> None:
        with self._lock:
            self.outcomes[name] += 1

    def dossiers(self, query: dict[str, list[str]], auth: str | None) -> tuple[int, bytes, dict]:
        number, faults = self._count()
        if self.token and auth != f"Bearer {self.token}":
            self._outcome("401")
            return _error(401, "missing or wrong bearer token")
        try:
            since = _parse_since(query)
            page = _int_param(query, "page", 1, 1, None)
            size = _int_param(query, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        except ValueError as exc:
            self._outcome("400")
            return _error(400, str(exc))
        if _every(faults.timeout_every, number):
            self._outcome("timeout")
            self._stopping.wait(faults.timeout_seconds)
        elif _every(faults.error_500_every, number) or faults.error_500_on_page == page:
            self._outcome("500")
            return _error(500, "simulated internal error")
        elif _every(faults.rate_limit_every, number):
            self._outcome("429")
            status, body, headers = _error(429, "simulated rate limit")
            headers["Retry-After"] = str(faults.retry_after)
            return status, body, headers
        listing = self.store.listing(since)
        start = (page - 1) * size
        first = start - 1 if faults.duplicate_across_pages and page > 1 else start
        items = (
            [item for _key, item in listing[first : start + size]] if start < len(listing) else []
        )
        total_pages = math.ceil(len(listing) / size)
        doc = {
            "items": items,
            "page": page,
            "page_size": size,
            "total_pages": total_pages,
            "next_page": page + 1 if page < total_pages else None,
        }
        text = json.dumps(doc, ensure_ascii=False)
        if faults.malformed_json_on_page == page:
            self._outcome("malformed")
            text = text[: max(1, len(text) // 2)]  # cut short, as by a dying proxy
        elif not _every(faults.timeout_every, number):
            self._outcome("200")
        body = text.encode("utf-8")
        if faults.change_during_pull_after_page == page:
            with self._lock:
                self.faults.change_during_pull_after_page = 0  # once
            self.store.touch_first(since)
        return 200, body, {"Content-Type": "application/json; charset=utf-8"}


def _error(status: int, message: str) -> tuple[int, bytes, dict]:
    body = json.dumps({"error": message}).encode()
    return status, body, {"Content-Type": "application/json"}


def _parse_since(query: dict[str, list[str]]) -> datetime | None:
    values = query.get("changed_since")
    if not values or not values[0].strip():
        return None
    text = values[0].strip().replace(" ", "+")  # an unescaped '+' arrives as a space
    try:
        since = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"changed_since is not ISO-8601: {values[0]!r}") from None
    if since.tzinfo is not None:
        since = since.astimezone(SOURCE_TZ).replace(tzinfo=None)
    return since


def _int_param(
    query: dict[str, list[str]], name: str, default: int, low: int, high: int | None
) -> int:
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise ValueError(f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be in {low}..{high or ''}")
    return value


class _Handler(BaseHTTPRequestHandler):
    server_version = "motcua-api-simulator/1"

    @property
    def sim(self) -> Simulator:
        return self.server.simulator  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("simulator: " + format, *args)

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for name, value in (headers or {"Content-Type": "application/json"}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout fault)

    def _json(self, status: int, doc: Any) -> None:
        self._send(status, json.dumps(doc, ensure_ascii=False).encode("utf-8"))

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path == ENDPOINT:
            status, body, headers = self.sim.dossiers(
                parse_qs(parts.query), self.headers.get("Authorization")
            )
            self._send(status, body, headers)
        elif parts.path == "/_stats":
            self._json(200, self.sim.stats())
        elif parts.path == "/_faults":
            self._json(200, asdict(self.sim.faults))
        elif parts.path == "/healthz":
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        try:
            doc = self._body()
            if path == "/_faults":
                self.sim.set_faults(doc)
                self._json(200, asdict(self.sim.faults))
            elif path == "/_items":
                if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
                    raise ValueError('expected {"items": [...]}')
                stamps = self.sim.upsert(doc["items"])
                self._json(
                    200, {"upserted": len(stamps), "stamps": stamps, "items": len(self.sim.store)}
                )
            else:
                self._json(404, {"error": "not found"})
        except ValueError as exc:
            self._json(400, {"error": str(exc)})


@contextmanager
def serve(**kwargs: Any) -> Iterator[str]:
    """Run a simulator for the duration of the block; yields its base URL."""
    with Simulator(**kwargs) as sim:
        yield sim.base_url


def _fault_arg(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    value = value.strip()
    if value.lower() in ("true", "false"):
        return name.strip(), value.lower() == "true"
    try:
        return name.strip(), json.loads(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}: not a number or true/false: {value!r}") from None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m motcua_dev.simulator",
        description="Serve synthetic one-stop-shop dossiers over the connector's HTTP API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--items", type=int, default=120, help="number of synthetic dossiers")
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--token", default=None, help="require this bearer token")
    parser.add_argument(
        "--fault",
        action="append",
        type=_fault_arg,
        default=[],
        metavar="NAME=VALUE",
        help="e.g. rate_limit_every=3, duplicate_across_pages=true (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        sim = Simulator(
            count=args.items,
            seed=args.seed,
            faults=dict(args.fault),
            token=args.token,
            host=args.host,
            port=args.port,
        )
    except ValueError as exc:
        parser.error(str(exc))
    url = sim.start()
    print(f"serving {len(sim.store)} dossiers on {url}{ENDPOINT} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()


if __name__ == "__main__":
    main()
