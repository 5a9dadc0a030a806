"""`make run` names each commune's 766 progress points and the communes that lost most."""

from __future__ import annotations

from motcua import summary


def _row(name: str, code: str, points: str | None, change: str | None) -> dict[str, object]:
    return {
        "commune_code": code,
        "commune_name": name,
        "period_start": "2017-06-01",
        "period_end": "2017-06-30",
        "points": points,
        "max_points": "20",
        "rate": None,
        "points_change": change,
    }


def test_progress_points_and_the_communes_that_lost_most() -> None:
    lines = summary._progress_lines(
        [
            _row("Xã Ninh Xuân", "22555", "20.00", "0.00"),
            _row("Xã Ninh An", "22540", "15.00", "-2.14"),
            _row("Xã Ninh Sơn", "22531", "16.36", "-1.97"),
            _row("Xã Ninh Thọ", "22546", "15.00", "-0.50"),
            _row("Xã Ninh Hưng", "22597", "12.50", "-3.00"),
            _row("Xã Ninh Lộc", "22600", "15.56", None),
        ]
    )
    assert lines == [
        "766 progress points (Tiến độ giải quyết, of 20.00), 2017-06-01..2017-06-30,"
        " change since the month before:",
        "  Xã Ninh Xuân (22555): 20.00 (+0.00)",
        "  Xã Ninh An (22540): 15.00 (-2.14)",
        "  Xã Ninh Sơn (22531): 16.36 (-1.97)",
        "  Xã Ninh Thọ (22546): 15.00 (-0.50)",
        "  Xã Ninh Hưng (22597): 12.50 (-3.00)",
        "  Xã Ninh Lộc (22600): 15.56",
        "Lost the most progress points: Xã Ninh Hưng -3.00, Xã Ninh An -2.14, Xã Ninh Sơn -1.97",
    ]


def test_no_progress_rows_say_nothing() -> None:
    assert summary._progress_lines([]) == []
