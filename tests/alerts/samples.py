"""Hand-made quality summaries in the exact shape ``motcua.quality.run_checks`` returns.

``test_compose.test_sample_has_the_shape_of_build_summary`` keeps this honest:
the same findings pushed through the real ``build_summary`` give the same keys.
"""

from __future__ import annotations

import copy
from typing import Any

RUN_ID = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b"
RUN_DATE = "2017-07-14"

# A citizen's data, planted where free text or codes could carry it (defence in depth).
PHONE = "0905 123 456"
PHONE_BARE = "0905123456"
EMAIL = "nguyen.van.an@gmail.com"
ADDRESS = "Thôn Phước Lâm, Ninh Xuân"
CITIZEN_STRINGS = (
    PHONE,
    PHONE_BARE,
    "0905",
    "123 456",
    EMAIL,
    "nguyen.van.an",
    ADDRESS,
    "Phước Lâm",
)

WINDOWS = [
    {"window": "last_7_days", "period_start": "2017-07-08", "period_end": "2017-07-14"},
    {"window": "month_to_date", "period_start": "2017-07-01", "period_end": "2017-07-14"},
]


def _contact(
    check: str,
    window: str,
    observed: float,
    required: float,
    dossiers: int,
    affected: int,
    codes: list[str],
) -> dict[str, Any]:
    start = "2017-07-08" if window == "last_7_days" else "2017-07-01"
    return {
        "suite": "contact_completeness",
        "check": check,
        "severity": "warn",
        "window": window,
        "period_start": start,
        "period_end": "2017-07-14",
        "observed": observed,
        "required": required,
        "dossiers": dossiers,
        "affected": affected,
        "dossier_codes": codes,
        "error": None,
    }


def citizen_free_summary() -> dict[str, Any]:
    """Three communes (given out of code order), one pipeline finding, nothing blocking."""
    return {
        "run_id": RUN_ID,
        "run_date": RUN_DATE,
        "checked_at": "2017-07-14T23:12:05+00:00",
        "success": False,
        "blocking_failed": False,
        "windows": copy.deepcopy(WINDOWS),
        "suites": {
            "contact_completeness": {
                "severity": "warn",
                "success": False,
                "checks": 162,
                "failed": 5,
            },
            "quarantine_share": {"severity": "warn", "success": False, "checks": 1, "failed": 1},
        },
        "communes": [
            {
                "commune_code": "22552",
                "commune_name": "Xã Ninh Sim",
                "findings": [
                    _contact(
                        "email_valid",
                        "month_to_date",
                        0.4167,
                        0.6,
                        48,
                        28,
                        [
                            "22552-170703-0001",
                            "22552-170703-0002",
                            "22552-170704-0001",
                            "22552-170705-0001",
                            "22552-170705-0002",
                        ],
                    ),
                    _contact(
                        "phone_valid",
                        "last_7_days",
                        0.8,
                        0.9,
                        10,
                        2,
                        ["22552-170710-0001", "22552-170712-0003"],
                    ),
                ],
            },
            {
                "commune_code": "22534",
                "commune_name": "Xã Ninh Tây",
                "findings": [
                    _contact(
                        "phone_valid",
                        "last_7_days",
                        0.72,
                        0.9,
                        25,
                        7,
                        ["22534-170710-0001", "22534-170711-0001"],
                    ),
                ],
            },
            {
                "commune_code": "22537",
                "commune_name": "Xã Ninh Thượng",
                "findings": [
                    _contact(
                        "address_present",
                        "month_to_date",
                        0.9,
                        0.95,
                        1234,
                        124,
                        ["22537-170701-0001"],
                    ),
                ],
            },
        ],
        "pipeline_findings": [
            {
                "suite": "quarantine_share",
                "check": "quarantine_share",
                "severity": "warn",
                "observed": 0.9667,
                "required": 1.0,
                "rows": 30,
                "affected": 1,
                "key": "file_name",
                "codes": ["hoso_20170712.csv"],
                "error": None,
            }
        ],
        "quality_report": "/srv/motcua/expectations/gx/uncommitted/quality_report/index.html",
    }


def summary_with_citizen_data() -> dict[str, Any]:
    """The same run, with a citizen's phone, e-mail and address planted in free text and codes."""
    summary = citizen_free_summary()
    tay = summary["communes"][1]
    tay["commune_name"] = f"Xã Ninh Tây; Địa chỉ: {ADDRESS}"
    tay["findings"][0]["dossier_codes"] = ["22534-170710-0001", PHONE_BARE, EMAIL, PHONE]
    tay["findings"].append(
        {
            **_contact("email_valid", "last_7_days", 0.0, 0.6, 25, 25, []),
            "observed": None,
            "dossiers": None,
            "affected": None,
            "error": f'DataError: invalid input "{PHONE}" for {EMAIL}, địa chỉ {ADDRESS}',
        }
    )
    summary["pipeline_findings"][0]["codes"] = [f"hoso {EMAIL}.csv", "hoso_20170712.csv"]
    return summary


def blocking_summary() -> dict[str, Any]:
    summary = citizen_free_summary()
    summary["blocking_failed"] = True
    summary["pipeline_findings"].append(
        {
            "suite": "dossier_current_state",
            "check": "dossier_code_unique",
            "severity": "block",
            "observed": 0.998,
            "required": 1.0,
            "rows": 1000,
            "affected": 2,
            "key": "dossier_code",
            "codes": ["22528-170710-0001", "22531-170711-0002"],
            "error": None,
        }
    )
    return summary


def clean_summary() -> dict[str, Any]:
    summary = citizen_free_summary()
    summary.update(success=True, communes=[], pipeline_findings=[])
    return summary
