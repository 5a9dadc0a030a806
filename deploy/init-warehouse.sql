-- First start of the compose Postgres: the warehouse database beside Airflow's.
create database warehouse owner motcua;
