"""Data-quality layer: Great Expectations checkpoints over the warehouse.

``run_checks(url, run_date)`` runs the reviewed GX project under
``expectations/gx`` (thresholds from ``expectations/dq_settings.yml``),
stores every result in ``dq.validation_results`` and returns a JSON-ready
summary; it raises :class:`QualityGateError` after storing when a blocking
check failed. Contact-field shortfalls only warn.
"""

from motcua.quality.run import QualityGateError, build_summary, run_checks
from motcua.quality.settings import QualitySettings, load_settings

__all__ = ["QualityGateError", "QualitySettings", "build_summary", "load_settings", "run_checks"]
