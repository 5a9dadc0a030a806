"""Apache Superset on the marts, provisioned as code.

``spec`` is the part people edit: the datasets (one per mart), the charts and
the dashboards. ``bundle`` turns it into Superset's own import bundle (the
v1 YAML format of ``superset import-datasources`` / ``import-dashboards``),
``superset`` runs Superset from its own virtualenv (``.venv-superset``, its
own lock: it pins SQLAlchemy 1.4, which Airflow cannot share) and
``python -m motcua bi`` (``make bi``) starts it on loopback with the assets
loaded.
"""
