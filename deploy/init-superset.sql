-- First start of the compose Postgres: Superset's own metadata database.
create database superset owner motcua;
