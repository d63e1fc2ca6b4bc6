#!/bin/sh
# Runs once, when the database is created: the platform's tables belong to the role
# `procurement`, which cannot log in and is no superuser; the API and the workers log in as
# roles of their own, each with its own password, that act as `procurement`. Either
# password can be changed or revoked alone.
set -eu
psql --variable ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --variable api="$(tr -d '\n' < /run/secrets/postgres_api_password)" \
    --variable worker="$(tr -d '\n' < /run/secrets/postgres_worker_password)" <<'SQL'
CREATE ROLE procurement NOLOGIN;
ALTER DATABASE procurement OWNER TO procurement;
REVOKE ALL ON DATABASE procurement FROM PUBLIC;
CREATE ROLE procurement_api LOGIN PASSWORD :'api' IN ROLE procurement;
ALTER ROLE procurement_api SET role TO procurement;
CREATE ROLE procurement_worker LOGIN PASSWORD :'worker' IN ROLE procurement;
ALTER ROLE procurement_worker SET role TO procurement;
GRANT CONNECT ON DATABASE procurement TO procurement_api, procurement_worker;
SQL
