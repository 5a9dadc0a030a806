"""Alerts for the provincial IT team: data-quality findings, failed tasks, a late night run.

``compose`` builds the Vietnamese messages (plain text + HTML, personal data
masked), ``send`` delivers them (Airflow's SMTP provider, or a local .eml file
sink when no mail server is configured; optionally a webhook), ``callbacks``
plugs them into Airflow (task failure, deadline alert). Nothing here imports
Airflow at module level, so DAG parsing stays fast.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from motcua.alerts.compose import compose_quality_alert
from motcua.alerts.send import deliver

__all__ = ["alert_quality"]


def alert_quality(summary: dict[str, Any], run_date: date | str) -> dict[str, Any]:
    """Send the one data-quality alert of a run, if it has findings; return what was done.

    ``summary`` is what ``motcua.quality.run_checks`` returns (or
    ``QualityGateError.summary``). The result is JSON-ready, for the task's XCom.
    """
    from motcua.reference.scope import restrict_quality_summary

    day = run_date.isoformat() if isinstance(run_date, date) else str(run_date)
    summary = restrict_quality_summary(summary)  # MOTCUA_PROVINCE: its communes only
    message = compose_quality_alert(summary)
    if message is None:
        return {"sent": False, "reason": "no findings", "run_date": day}
    name = f"{day}_{str(summary['run_id'])[:8]}"  # the run date and the check run's id, as in dq
    result = deliver(message, name=name)
    return {
        "sent": True,
        "run_date": day,
        "communes": len(summary["communes"]),
        "pipeline_findings": len(summary["pipeline_findings"]),
        **result,
    }
