"""The production executor set-up (CeleryExecutor), run as local processes.

``docker-compose.yml`` is the deployment; :mod:`motcua.deploy.celery_stack`
starts the same Airflow components (api-server, scheduler, dag-processor,
Celery worker) and a Redis broker as subprocesses on loopback, so the Celery
set-up can be proven on a machine without Docker (``tests/deploy``).
"""
