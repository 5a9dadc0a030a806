# Project image for docker-compose.yml: Airflow 3.3 with the locked stack and
# this package. Built from the same requirements.lock as `make run`.
FROM apache/airflow:3.3.2-python3.11

USER root
COPY --chown=airflow:0 requirements.lock pyproject.toml /opt/motcua/
COPY --chown=airflow:0 src/motcua /opt/motcua/src/motcua
USER airflow
RUN pip install --no-cache-dir -r /opt/motcua/requirements.lock \
 && pip install --no-cache-dir --no-deps -e /opt/motcua
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 dbt_project /opt/motcua/dbt_project
COPY --chown=airflow:0 expectations /opt/motcua/expectations
ENV MOTCUA_HOME=/opt/motcua \
    MOTCUA_LOCAL_DIR=/opt/airflow/motcua-local \
    DO_NOT_TRACK=1 \
    SCARF_ANALYTICS=false \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    GX_ANALYTICS_ENABLED=False \
    AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY=False
# the manifest Cosmos renders the DAG from (no database needed to parse)
RUN cd /opt/motcua/dbt_project && WH_HOST=x WH_PORT=5432 WH_USER=x WH_DBNAME=x \
    dbt parse --project-dir . --profiles-dir . --quiet
