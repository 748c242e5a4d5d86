#!/usr/bin/env bash
# Runs a development server on http://127.0.0.1:8008 with open registration.
#
#   scripts/dev-up.sh
#
# Installs missing system packages; writes .env with random secrets if there
# is none (scripts/generate-secrets.sh); starts a private Postgres and Redis
# whose data lives in ./.data/ (kept between runs, reused if still running);
# makes a signing key in ./.data/ if absent; builds; migrates; then runs
# `myelin serve --all` in the foreground. Ctrl-C stops the server, then
# Postgres and Redis, cleanly.
#
# Optional settings:
#   MYELIN_DEV_PORT        port of the server (default 8008)
#   MYELIN_DEV_DATA_DIR    data folder (default ./.data)
#   MYELIN_DEV_PG_PORT     Postgres port (default 55432, or any free one)
#   MYELIN_DEV_REDIS_PORT  Redis port (default 56379, or any free one)
#   MYELIN_DEV_KEEP_SERVICES=1  leave Postgres and Redis running on exit
#   MYELIN_DEV_BIN_DIR     use the `myelin` binary in this folder (e.g. a
#                          release build) instead of building a debug one
# Other MYELIN_* settings (log level, rate limits, ...) are read from .env.
# Cleanup snippets are single-quoted on purpose: they expand at exit time.
# shellcheck disable=SC2016,SC2119
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
svc_install_traps

DEV_PORT=${MYELIN_DEV_PORT:-8008}
KEEP_SERVICES=${MYELIN_DEV_KEEP_SERVICES:-0}

svc_ensure_packages

if [[ ! -f .env ]]; then
  bash scripts/generate-secrets.sh
fi
# Export everything .env sets so the server sees it.
set -a
# shellcheck source=/dev/null
source ./.env
set +a
: "${POSTGRES_PASSWORD:?.env has no POSTGRES_PASSWORD; regenerate it with scripts/generate-secrets.sh --force}"
PG_USER=${POSTGRES_USER:-myelin}
PG_DB=${POSTGRES_DB:-myelin}
REDIS_PASS=${REDIS_PASSWORD:-}
[[ "$PG_USER" =~ ^[a-z_][a-z0-9_]*$ && "$PG_DB" =~ ^[a-z_][a-z0-9_]*$ ]] ||
  svc_die "POSTGRES_USER and POSTGRES_DB must be plain lower-case names"

svc_port_free "$DEV_PORT" || svc_die "something already listens on 127.0.0.1:$DEV_PORT (set MYELIN_DEV_PORT to use another port)"

DATA=${MYELIN_DEV_DATA_DIR:-.data}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
# The postgres user must be able to pass through to its own subfolder.
chmod 0755 "$DATA"

# pick_port VAR PREFERRED EXPLICIT: the preferred port if free; else, unless
# the user asked for that port explicitly, any free port.
pick_port() {
  local var=$1 preferred=$2 explicit=$3
  if svc_port_free "$preferred"; then
    printf -v "$var" '%s' "$preferred"
  elif [[ -n "$explicit" ]]; then
    svc_die "port $preferred is in use"
  else
    svc_free_port "$var"
  fi
}

# --- Postgres --------------------------------------------------------------------
PG_BASE="$DATA/postgres"
[[ "$KEEP_SERVICES" == 1 ]] || svc_on_exit 'svc_pg_stop "$PG_BASE"'
if svc_pg_running "$PG_BASE"; then
  svc_log "reusing the Postgres already running on port $SVC_PG_PORT"
  svc_pg_ensure_db "$PG_BASE" myelin myelin "$POSTGRES_PASSWORD"
else
  pick_port PG_PORT "${MYELIN_DEV_PG_PORT:-55432}" "${MYELIN_DEV_PG_PORT:-}"
  svc_pg_start "$PG_BASE" "$PG_PORT" scram-sha-256 "$POSTGRES_PASSWORD"
fi
PG_PORT=$SVC_PG_PORT
if [[ "$PG_USER" != myelin || "$PG_DB" != myelin ]]; then
  svc_pg_ensure_db "$PG_BASE" "$PG_DB" "$PG_USER" "$POSTGRES_PASSWORD"
fi

# --- Redis -------------------------------------------------------------------------
REDIS_DIR="$DATA/redis"
[[ "$KEEP_SERVICES" == 1 ]] || svc_on_exit 'svc_redis_stop "$REDIS_DIR"'
SVC_REDIS_PASSWORD=$REDIS_PASS
if svc_redis_running "$REDIS_DIR"; then
  svc_log "reusing the Redis already running on port $SVC_REDIS_PORT"
else
  # A leftover that does not answer (say, an old password) is replaced.
  svc_redis_stop "$REDIS_DIR"
  pick_port REDIS_PORT "${MYELIN_DEV_REDIS_PORT:-56379}" "${MYELIN_DEV_REDIS_PORT:-}"
  svc_redis_start "$REDIS_DIR" "$REDIS_PORT" "$REDIS_PASS"
fi
REDIS_PORT=$SVC_REDIS_PORT

# --- Build, key, migrate ----------------------------------------------------------------
if [[ -n "${MYELIN_DEV_BIN_DIR:-}" ]]; then
  BIN=$(cd "$MYELIN_DEV_BIN_DIR" && pwd)
else
  svc_log "swift build"
  swift build
  BIN=$(swift build --show-bin-path)
fi
[[ -x "$BIN/myelin" ]] || svc_die "$BIN/myelin not found"

BASEURL="http://127.0.0.1:$DEV_PORT"
export MYELIN_SERVER_NAME="localhost:$DEV_PORT"
export MYELIN_PUBLIC_BASEURL="$BASEURL"
export MYELIN_LISTEN_HOST=127.0.0.1
export MYELIN_LISTEN_PORT="$DEV_PORT"
export MYELIN_DATABASE_URL="postgres://$PG_USER:$POSTGRES_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
export MYELIN_REDIS_URL="redis://${REDIS_PASS:+:$REDIS_PASS@}127.0.0.1:$REDIS_PORT"
export MYELIN_SIGNING_KEY_PATH="$DATA/signing.key"
export MYELIN_ENABLE_REGISTRATION=true

if [[ ! -f "$MYELIN_SIGNING_KEY_PATH" ]]; then
  svc_log "generating the signing key $MYELIN_SIGNING_KEY_PATH"
  (umask 077 && "$BIN/myelin" generate-keys --output "$MYELIN_SIGNING_KEY_PATH")
fi

svc_log "myelin migrate"
"$BIN/myelin" migrate

# --- Serve ---------------------------------------------------------------------------
svc_log "starting myelin serve --all on $BASEURL"
svc_on_exit 'svc_stop_group "${SERVER_PID:-}" "myelin serve --all" 20'
svc_spawn SERVER_PID - "$BIN/myelin" serve --all
svc_wait_http "$BASEURL/health" 120 "$SERVER_PID" || svc_die "the server did not become healthy"

cat <<EOF

  Myelin is running.
    Homeserver URL:  $BASEURL      (server name $MYELIN_SERVER_NAME)
    Postgres:        127.0.0.1:$PG_PORT   Redis: 127.0.0.1:$REDIS_PORT   data: $DATA

  Register a user (open registration):
    curl -sS -X POST $BASEURL/_matrix/client/v3/register -H 'Content-Type: application/json' \\
      -d '{"username":"alice","password":"change-me-please","auth":{"type":"m.login.dummy"}}'

  Or an admin, with the shared secret from .env:
    $BIN/myelin register-user --server-url $BASEURL \\
      --shared-secret "\$(sed -n 's/^MYELIN_REGISTRATION_SHARED_SECRET=//p' .env)" \\
      --user admin --password change-me-please --admin

  Or from Python with matrix-nio (scripts/test.sh puts it in .venv/):
.venv/bin/python - <<'PY'
import asyncio, nio
async def main():
    client = nio.AsyncClient("$BASEURL")
    print(await client.register("bob", "change-me-please"))
    await client.close()
asyncio.run(main())
PY

  Then sign in with any Matrix client using the homeserver URL above.
  Ctrl-C stops the server$([[ "$KEEP_SERVICES" == 1 ]] && echo "" || echo ", Postgres and Redis").

EOF

# Returns when the server exits or a signal arrives; the exit trap then
# stops whatever is still running.
set +e
wait "$SERVER_PID"
status=$?
set -e
exit "$status"
