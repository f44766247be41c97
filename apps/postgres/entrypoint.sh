#!/bin/sh
# Starts PostgreSQL, first creating the cluster when PGDATA holds none: initdb with the
# superuser POSTGRES_USER (default postgres) and its password POSTGRES_PASSWORD (required),
# then the database POSTGRES_DB (default: the user's name). Connections over TCP need the
# password (scram-sha-256); the local socket, reachable only inside the container, is trusted.
# Nothing is written outside PGDATA (and /var/run/postgresql, /tmp once running), so the root
# filesystem can be read-only. The password never reaches an argument list, a file or the log.
set -eu

log() { printf 'postgres-entrypoint: %s\n' "$*" >&2; }

# Options alone (docker run IMAGE -c x=y) are options of postgres.
case "${1:-}" in -*) set -- postgres "$@" ;; esac

initialise() {
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    log "POSTGRES_PASSWORD is empty, so no cluster is created in $PGDATA: the superuser \"$user\" would have no password. Fix: set POSTGRES_PASSWORD (the manifest takes it from the Secret todo-secrets, key postgres-password)."
    exit 1
  fi
  # A new PGDATA is prepared beside its final place and renamed into it once complete, so a
  # start interrupted half-way leaves no cluster that looks finished but lacks the database.
  # An existing (empty) PGDATA, such as a volume's mount point, is used in place.
  target=$PGDATA
  parent=$(dirname "$PGDATA")
  if [ ! -e "$PGDATA" ]; then
    [ -d "$parent" ] || mkdir -p "$parent"
    if [ -w "$parent" ]; then target="$PGDATA.initdb"; rm -rf "$target"; fi
  fi
  [ -d "$target" ] || mkdir "$target"
  chmod 0700 "$target"
  log "creating a cluster in $PGDATA (superuser \"$user\", database \"$db\")"
  printf '%s\n' "$POSTGRES_PASSWORD" | initdb --pgdata="$target" --username="$user" --pwfile=/dev/stdin \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-instructions >&2
  printf "\n# todo-deploy: reachable from other pods; every TCP connection needs the password.\nlisten_addresses = '*'\n" >> "$target/postgresql.conf"
  printf '\nhost all all all scram-sha-256\n' >> "$target/pg_hba.conf"
  if [ "$db" != postgres ]; then
    # Single-user mode needs no socket and no server; exit_on_error makes a failed CREATE fail the start.
    quoted=$(printf '%s' "$db" | sed 's/"/""/g')
    printf 'CREATE DATABASE "%s";\n' "$quoted" | postgres --single -D "$target" -c exit_on_error=on postgres >/dev/null
  fi
  if [ "$target" != "$PGDATA" ]; then mv "$target" "$PGDATA"; fi
  log "cluster created"
}

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  initialise
fi
# The server needs the password no longer; its children should not inherit it.
unset POSTGRES_PASSWORD
exec "$@"
