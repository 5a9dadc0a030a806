"""``airflow dags test`` as ``make run`` runs it, with a cheaper in-process execution API.

``python -m motcua.orchestration.dags_test dags test <dag_id> ...`` is Airflow's
own command line (``airflow.__main__``) with one change made first, in this
process only: the execution API that ``airflow dags test`` builds in-process
(its tasks talk to it through an in-memory transport, no network) serves only
the API version the tasks' client speaks, the newest one, instead of all nine
of Airflow 3.3's.

Why: Cadwyn, which versions that API, builds every version's routes and
request and response models at the first request, that is in the DAG's first
task; with nine versions that was 5–7 s of the run on a quiet machine and
17–27 s under load, ~85 % of it for versions nobody calls
(``docs/benchmarks.md``, the nightly through Airflow). The requests the tasks
make are served by the newest version's routes as before: a client at the
newest version gets no request or response migration in either case.

Cadwyn requires every route that only exists in older versions (Airflow 3.3
has one, ``GET /dag-runs/{dag_id}/previous``) to be restored by an older
version: the reduced bundle therefore has one older version, ``1970-01-01``,
made up for this purpose, where they exist; no client sends it. When the Task
SDK's API version is not the newest the server knows (another Airflow
version), nothing is changed and the full API is built.

Nothing else differs from ``airflow dags test``: same parsing, same DAG run,
same tasks, same metadata. The scheduler and the API server of a deployment
are not concerned (they never run this module).
"""

from __future__ import annotations

import logging
import sys
from typing import NoReturn

log = logging.getLogger(__name__)

# the made-up oldest version of the reduced bundle (see the module's text)
RESTORED_VERSION = "1970-01-01"


def serve_newest_version_only() -> bool:
    """Make the in-process execution API serve only the Task SDK's version; True when done."""
    from airflow.api_fastapi.execution_api import versions
    from airflow.api_fastapi.execution_api.routes import execution_api_router
    from airflow.sdk.api.datamodels._generated import API_VERSION
    from cadwyn import HeadVersion, Version, VersionBundle, VersionChange, endpoint
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    full = versions.bundle
    if not full.versions or full.versions[0].value != API_VERSION:
        return False  # the client speaks another version: keep them all
    older_only = [
        route
        for route in execution_api_router.routes
        if _DELETED_ROUTE_TAG in (getattr(route, "tags", None) or ())
    ]
    restore = type(
        "RestoreOlderVersionsEndpoints",
        (VersionChange,),
        {
            "__module__": __name__,
            "description": "The routes that only exist in older versions (unused in-process).",
            "instructions_to_migrate_to_previous_version": tuple(
                endpoint(route.path, sorted(route.methods)).existed for route in older_only
            ),
        },
    )
    newest = Version(API_VERSION, restore) if older_only else Version(API_VERSION)
    oldest = [Version(RESTORED_VERSION)] if older_only else []
    versions.bundle = VersionBundle(HeadVersion(), newest, *oldest)
    return True


def main(argv: list[str]) -> int | str | None:
    """Airflow's CLI with ``argv`` (``dags test <dag_id> ...``) after the API reduction."""
    from airflow.__main__ import main as airflow_main  # imports Airflow's configuration first

    try:
        serve_newest_version_only()
    except Exception:  # an Airflow or Cadwyn upgrade changed what this relies on
        log.warning("in-process execution API left as Airflow builds it", exc_info=True)
    sys.argv = ["airflow", *argv]
    try:
        return airflow_main()
    except SystemExit as done:  # "DagRun failed" and the like: Airflow's own exit
        return done.code


def exit_now(code: int | str | None) -> NoReturn:
    """Exit as ``sys.exit(code)`` does, without the interpreter tearing down its heap.

    After the DAG run everything is written (Airflow commits each state as it
    goes): what is left is finalisation, freeing the millions of objects of
    Airflow, Cosmos, dbt's manifest and Great Expectations one by one, 2.5 s
    of the run measured (``docs/benchmarks.md``). The exit handlers still run
    (Airflow's, the logging shutdown that flushes and closes the log files,
    the in-process API's), after the threads that are not daemons finish, as
    at a normal exit; then the process ends at once.
    """
    import atexit
    import os
    import threading

    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what the interpreter prints for sys.exit("message")
        code = 1
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    exit_now(main(sys.argv[1:]))
