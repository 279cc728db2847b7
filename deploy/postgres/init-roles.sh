#!/bin/sh
# Postgres's first start (docker-entrypoint-initdb.d, an empty data directory): grantline's NOLOGIN groups and
# one login user per grantline process, each a member of its group (docs/deploying.md#credentials). The
# passwords come from the compose secrets mounted into this container. The migration (0010-roles) grants the
# groups their privileges; it creates the groups itself where its user may (CREATEROLE), so creating them here
# only lets the migration run as a user without CREATEROLE.
set -eu
pw() { tr -d '\r\n' <"/run/secrets/$1"; }
# The official image exports POSTGRES_USER and POSTGRES_DB; other postgres images need not (defaults as there).
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
  -v migrate="$(pw pg-migrate-password)" -v scheduler="$(pw pg-scheduler-password)" \
  -v writer="$(pw pg-writer-password)" -v reader="$(pw pg-reader-password)" <<'SQL'
CREATE ROLE grantline_owner NOLOGIN;
CREATE ROLE grantline_writer NOLOGIN;
CREATE ROLE grantline_scheduler NOLOGIN;
CREATE ROLE grantline_readonly NOLOGIN;
-- The migration job: creates the tables (then owned by grantline_owner), never used by a service.
CREATE ROLE gl_migrate LOGIN PASSWORD :'migrate' IN ROLE grantline_owner;
CREATE ROLE gl_scheduler LOGIN PASSWORD :'scheduler' IN ROLE grantline_scheduler;
CREATE ROLE gl_writer LOGIN PASSWORD :'writer' IN ROLE grantline_writer;
-- The CLI's queries (grantline access …) and people's own SQL on the views.
CREATE ROLE gl_reader LOGIN PASSWORD :'reader' IN ROLE grantline_readonly;
GRANT CREATE ON SCHEMA public TO grantline_owner;
SQL
