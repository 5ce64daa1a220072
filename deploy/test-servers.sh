#!/usr/bin/env bash
# Start Redis and Postgres from Debian's packages on loopback ports for the `servers` tests
# (no containers, root-safe: Postgres runs as the `postgres` user with its data under /tmp).
# Prints the two `export` lines the tests read; `eval "$(deploy/test-servers.sh)"`.
#   REDIS_PORT (6390)  PG_PORT (5440)  SERVERS_DIR (/tmp/talkingphoto-servers)
set -euo pipefail
REDIS_PORT=${REDIS_PORT:-6390}
PG_PORT=${PG_PORT:-5440}
DIR=${SERVERS_DIR:-/tmp/talkingphoto-servers}
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
mkdir -p "$DIR"

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
    --appendonly no --dir "$DIR" --logfile "$DIR/redis.log" >&2
fi

PGDATA="$DIR/pg"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$PGDATA' -A trust -U postgres" >&2
fi
chown postgres:postgres "$DIR" 2>/dev/null || true
if ! su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$PGDATA' status" >/dev/null 2>&1; then
  su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$PGDATA' -w -l '$DIR/pg.log' \
    -o \"-p $PG_PORT -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off\" \
    start" >&2
fi
for _ in $(seq 1 60); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 \
    && "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1 && break
  sleep 0.5
done
echo "export TALKINGPHOTO_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
echo "export TALKINGPHOTO_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
