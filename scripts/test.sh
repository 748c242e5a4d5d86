#!/usr/bin/env bash
# The project's one test command.
#
#   scripts/test.sh [pytest args...]
#
# 1. Installs missing system packages.
# 2. Starts a throw-away Postgres and Redis on free loopback ports in a
#    temporary folder and exports MYELIN_TEST_DATABASE_URL and
#    MYELIN_TEST_REDIS_URL for the Swift tests.
# 3. `swift build`, then `swift test` (debug).
# 4. End to end: generates a signing key, runs `myelin migrate` on a separate
#    database, starts `myelin serve --all --without-federation-sender`, a
#    second process `myelin-client-api` and the outbound federation sender
#    `myelin-federation-sender` as a process of its own (same Postgres and
#    Redis) on free ports, waits for /health (process 1 also serves federation
#    over TLS, on the port its server name names), starts Synapse (from PyPI,
#    its own database on the same Postgres server, with a TLS federation
#    listener) as the reference server and federation peer, starts a second,
#    independent Myelin server "B" (`myelin serve --all`: its own database,
#    Redis database index, signing key and server name) as a Myelin peer, and
#    runs `pytest Tests/e2e` from a cached venv in .venv/. The sender and
#    Synapse are described to the suite in JSON files (command, log, pid file,
#    health URL) so tests can kill and restart them.
# 5. Tears everything down; on failure prints the tail of the server logs.
# Exits non-zero if anything failed. Extra arguments go to pytest.
#
# Switches (for working on the scripts and the suite; CI sets none):
#   MYELIN_TEST_SKIP_SWIFT=1       skip `swift build` and `swift test`; the e2e
#                                  step uses binaries already built.
#   MYELIN_TEST_E2E_COLLECT_ONLY=1 start no servers; only check that the e2e
#                                  suite collects (pytest --collect-only).
#   MYELIN_TEST_BIN_DIR=DIR        take `myelin` and `myelin-client-api` from DIR
#                                  instead of the debug build folder.
#   MYELIN_TEST_KEEP=1             keep the temporary folder (logs, data).
#   MYELIN_TEST_LOG_LEVEL=debug    log level of the e2e servers (default info).
# Cleanup snippets are single-quoted on purpose: they expand at exit time.
# shellcheck disable=SC2016,SC2119
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/synapse.sh
source scripts/lib/synapse.sh
svc_install_traps

SKIP_SWIFT=${MYELIN_TEST_SKIP_SWIFT:-0}
COLLECT_ONLY=${MYELIN_TEST_E2E_COLLECT_ONLY:-0}
KEEP=${MYELIN_TEST_KEEP:-0}
LOG_LEVEL=${MYELIN_TEST_LOG_LEVEL:-info}
# The body limit the e2e servers get; the suite sends one byte more.
MAX_BODY_BYTES=1048576

# Server settings from the caller's shell (say, a sourced .env) must not
# change what the tests see: drop every MYELIN_* except our own switches.
while read -r var; do
  [[ "$var" == MYELIN_TEST_* ]] || unset "$var"
done < <(compgen -e | grep '^MYELIN_' || true)

svc_ensure_packages

# Everything of this run lives here. World-traversable so the postgres user
# can reach its data folder inside it.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/myelin-test.XXXXXX")
chmod 0755 "$TMP"
mkdir -p "$TMP/logs"
if [[ "$KEEP" == 1 ]]; then
  svc_on_exit 'svc_log "kept $TMP"'
else
  svc_on_exit 'rm -rf "$TMP"'
fi

# --- Postgres and Redis ------------------------------------------------------
svc_start_test_services "$TMP"
# The e2e servers get their own database so Swift tests cannot disturb them.
svc_pg_ensure_db "$TMP/postgres" myelin_e2e myelin myelin
E2E_DATABASE_URL="postgres://myelin:myelin@127.0.0.1:$PG_PORT/myelin_e2e"

FAILED=()

# --- Swift ---------------------------------------------------------------------
if [[ "$SKIP_SWIFT" == 1 ]]; then
  svc_log "skipping swift build and swift test (MYELIN_TEST_SKIP_SWIFT=1)"
else
  svc_log "swift build"
  swift build
  svc_log "swift test"
  # A hung test must not eat the whole CI budget.
  if ! timeout --kill-after=30 2400 swift test 2>&1 | tee "$TMP/logs/swift-test.out"; then
    FAILED+=("swift test")
    # What Postgres itself refused meanwhile: the client library reports errors vaguely.
    # Under logs/, so the failure report below shows it.
    grep -E 'ERROR|FATAL|PANIC' "$TMP/postgres/postgres.log" >"$TMP/logs/postgres-errors-in-swift-test.log" || true
  fi
fi

# --- e2e venv ------------------------------------------------------------------
# Cached in .venv/ and rebuilt only when the requirements change.
ensure_venv() {
  local req="Tests/e2e/requirements.txt" stamp=".venv/.requirements.sha256" want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ -x .venv/bin/python ]] && [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]] &&
    .venv/bin/python -c 'import nio, pytest, pytest_asyncio, aiohttp, synapse' 2>/dev/null; then
    return 0
  fi
  svc_log "setting up the e2e venv in .venv/"
  if ! .venv/bin/python -c '' 2>/dev/null; then
    rm -rf .venv
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install -q -r "$req"
  echo "$want" >"$stamp"
}
ensure_venv

if [[ "$COLLECT_ONLY" == 1 ]]; then
  svc_log "collecting the e2e suite only (MYELIN_TEST_E2E_COLLECT_ONLY=1)"
  .venv/bin/python -m pytest Tests/e2e --collect-only -q "$@" || FAILED+=("e2e collection")
else
  # --- e2e servers ---------------------------------------------------------------
  BIN=${MYELIN_TEST_BIN_DIR:-$(swift build --show-bin-path)}
  for exe in myelin myelin-client-api myelin-federation-sender; do
    [[ -x "$BIN/$exe" ]] || svc_die "$BIN/$exe not found; build first (swift build)"
  done

  svc_free_port PORT1
  svc_free_port PORT2
  svc_free_port SENDER_PORT
  # Process 1 also listens for federation over TLS (self-signed certificate);
  # the server name names that port, so Synapse reaches it as a peer would.
  svc_free_port FEDPORT
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$TMP/tls.key" -out "$TMP/tls.crt" 2>/dev/null || svc_die "openssl could not make the TLS certificate"
  SHARED_SECRET=$(openssl rand -hex 32)
  SERVER_NAME="localhost:$FEDPORT"
  BASEURL1="http://127.0.0.1:$PORT1"
  BASEURL2="http://127.0.0.1:$PORT2"

  # Rate limits off so the suite's bursts of requests are not throttled.
  SERVER_ENV=(
    MYELIN_SERVER_NAME="$SERVER_NAME"
    MYELIN_PUBLIC_BASEURL="$BASEURL1"
    MYELIN_LISTEN_HOST=127.0.0.1
    MYELIN_DATABASE_URL="$E2E_DATABASE_URL"
    MYELIN_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
    MYELIN_SIGNING_KEY_PATH="$TMP/signing.key"
    MYELIN_ENABLE_REGISTRATION=true
    MYELIN_REGISTRATION_SHARED_SECRET="$SHARED_SECRET"
    MYELIN_MIGRATE_ON_START=false
    MYELIN_MAX_BODY_BYTES="$MAX_BODY_BYTES"
    MYELIN_RATE_LIMIT_PER_SECOND=0
    MYELIN_RATE_LIMIT_BURST=0
    MYELIN_LOG_LEVEL="$LOG_LEVEL"
    MYELIN_TLS_CERT_PATH="$TMP/tls.crt"
    MYELIN_TLS_KEY_PATH="$TMP/tls.key"
    # Peers here have self-signed certificates.
    MYELIN_FEDERATION_VERIFY_TLS=false
  )

  print_server_logs() {
    local f
    for f in "$TMP"/logs/*.log "$TMP"/synapse/homeserver.log; do
      [[ -f "$f" ]] || continue
      printf '\n----- last 100 lines of %s -----\n' "$(basename "$f")" >&2
      tail -n 100 "$f" >&2
    done
  }
  # Any failure from here on (including a server that never comes up) shows
  # the logs; rc is set by the EXIT trap before cleanup runs.
  svc_on_exit '[[ "${rc:-0}" -ne 0 && "${LOGS_SHOWN:-0}" != 1 ]] && print_server_logs'

  svc_log "generating a signing key"
  "$BIN/myelin" generate-keys --output "$TMP/signing.key"
  svc_log "myelin migrate"
  env "${SERVER_ENV[@]}" "$BIN/myelin" migrate >"$TMP/logs/migrate.log" 2>&1 ||
    svc_die "myelin migrate failed: $(tail -n 30 "$TMP/logs/migrate.log")"
  # Swift tests may have left stream entries behind; start from empty streams.
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null

  # write_process_file FILE PIDFILE LOG HEALTH_URL CMD...: describes a process the
  # suite may kill and start again (Tests/e2e/processes.py reads it). Whoever
  # restarts it writes the new pid to PIDFILE, and the cleanup stops that one.
  write_process_file() {
    python3 -c 'import json, sys
f, pid_file, log, health, *argv = sys.argv[1:]
json.dump({"argv": argv, "pid_file": pid_file, "log": log, "health_url": health}, open(f, "w"), indent=1)' "$@"
  }

  svc_log "starting myelin serve --all --without-federation-sender on $BASEURL1"
  svc_on_exit 'svc_stop_group "${PID1:-}" "myelin serve --all"'
  svc_spawn PID1 "$TMP/logs/myelin-serve-all.log" \
    env "${SERVER_ENV[@]}" MYELIN_LISTEN_PORT="$PORT1" MYELIN_FEDERATION_LISTEN_PORT="$FEDPORT" \
    "$BIN/myelin" serve --all --without-federation-sender

  # Outbound federation as a process of its own, so the suite can SIGKILL it.
  # A fixed instance name: a restarted sender takes over its killed predecessor's leases.
  SENDER_CMD=(env "${SERVER_ENV[@]}" MYELIN_LISTEN_PORT="$SENDER_PORT" MYELIN_FEDERATION_SENDER_INSTANCE=e2e-sender
    "$BIN/myelin-federation-sender")
  SENDER_LOG="$TMP/logs/myelin-federation-sender.log"
  write_process_file "$TMP/federation-sender.json" "$TMP/federation-sender.pid" "$SENDER_LOG" \
    "http://127.0.0.1:$SENDER_PORT/health" "${SENDER_CMD[@]}"
  svc_log "starting myelin-federation-sender (health on $SENDER_PORT)"
  svc_on_exit 'svc_stop_group "$(cat "$TMP/federation-sender.pid" 2>/dev/null)" "myelin-federation-sender"'
  svc_spawn SENDER_PID "$SENDER_LOG" "${SENDER_CMD[@]}"
  echo "$SENDER_PID" >"$TMP/federation-sender.pid"

  svc_log "starting myelin-client-api on $BASEURL2"
  svc_on_exit 'svc_stop_group "${PID2:-}" "myelin-client-api"'
  svc_spawn PID2 "$TMP/logs/myelin-client-api.log" \
    env "${SERVER_ENV[@]}" MYELIN_LISTEN_PORT="$PORT2" "$BIN/myelin-client-api"

  svc_wait_http "$BASEURL1/health" 60 "$PID1" || svc_die "myelin serve --all did not become healthy"
  svc_wait_http "$BASEURL2/health" 60 "$PID2" || svc_die "myelin-client-api did not become healthy"
  svc_wait_http "http://127.0.0.1:$SENDER_PORT/health" 60 "$SENDER_PID" || svc_die "myelin-federation-sender did not become healthy"

  # The reference server: same Postgres server, its own database; a TLS
  # federation listener so it can be a federation peer too.
  svc_on_exit 'svc_stop_group "$(cat "$TMP/synapse.pid" 2>/dev/null || echo "${SYNAPSE_PID:-}")" synapse 20'
  syn_start "$TMP/synapse" "$PWD/.venv/bin/python" "$TMP/postgres" "$PG_PORT" synapse_e2e federation
  echo "$SYNAPSE_PID" >"$TMP/synapse.pid"
  # The same command syn_start ran: same config, same database.
  write_process_file "$TMP/synapse.json" "$TMP/synapse.pid" "$TMP/synapse/synapse.out" "$SYNAPSE_URL/health" \
    bash -c 'cd "$1" && exec "$2" -m synapse.app.homeserver -c "$1/homeserver.yaml"' _ "$TMP/synapse" "$PWD/.venv/bin/python"

  # Server B: a second, independent Myelin federating with the first as a peer
  # would. Same Postgres and Redis servers, its own database, Redis database
  # index (stream entries of one server never reach the other), key and name.
  svc_free_port PORT_B
  svc_free_port FEDPORT_B
  svc_pg_ensure_db "$TMP/postgres" myelin_e2e_b myelin myelin
  SERVER_NAME_B="localhost:$FEDPORT_B"
  BASEURL_B="http://127.0.0.1:$PORT_B"
  SERVER_ENV_B=(
    "${SERVER_ENV[@]}"
    MYELIN_SERVER_NAME="$SERVER_NAME_B"
    MYELIN_PUBLIC_BASEURL="$BASEURL_B"
    MYELIN_DATABASE_URL="postgres://myelin:myelin@127.0.0.1:$PG_PORT/myelin_e2e_b"
    MYELIN_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
    MYELIN_SIGNING_KEY_PATH="$TMP/signing-b.key"
  )
  "$BIN/myelin" generate-keys --output "$TMP/signing-b.key" >/dev/null
  env "${SERVER_ENV_B[@]}" "$BIN/myelin" migrate >"$TMP/logs/migrate-b.log" 2>&1 ||
    svc_die "myelin migrate (server B) failed: $(tail -n 30 "$TMP/logs/migrate-b.log")"
  svc_log "starting server B ($SERVER_NAME_B): myelin serve --all on $BASEURL_B"
  svc_on_exit 'svc_stop_group "${PID_B:-}" "server B"'
  svc_spawn PID_B "$TMP/logs/myelin-b-serve-all.log" \
    env "${SERVER_ENV_B[@]}" MYELIN_LISTEN_PORT="$PORT_B" MYELIN_FEDERATION_LISTEN_PORT="$FEDPORT_B" "$BIN/myelin" serve --all
  svc_wait_http "$BASEURL_B/health" 60 "$PID_B" || svc_die "server B did not become healthy"

  svc_log "running the e2e suite"
  # The suite takes a few minutes (the outage tests wait out a stopped Synapse);
  # this is only a backstop.
  if ! env MYELIN_E2E_BASEURL="$BASEURL1" MYELIN_E2E_BASEURL2="$BASEURL2" \
    MYELIN_E2E_SERVER_NAME="$SERVER_NAME" MYELIN_E2E_SHARED_SECRET="$SHARED_SECRET" \
    MYELIN_E2E_FEDERATION_URL="https://127.0.0.1:$FEDPORT" \
    MYELIN_E2E_MAX_BODY_BYTES="$MAX_BODY_BYTES" \
    MYELIN_E2E_SYNAPSE_URL="$SYNAPSE_URL" MYELIN_E2E_SYNAPSE_SERVER_NAME="$SYNAPSE_SERVER_NAME" \
    MYELIN_E2E_SYNAPSE_SHARED_SECRET="$SYNAPSE_SHARED_SECRET" MYELIN_E2E_SYNAPSE_SIGNING_KEY="$SYNAPSE_SIGNING_KEY" \
    MYELIN_E2E_FEDERATION_SENDER_PROCESS="$TMP/federation-sender.json" MYELIN_E2E_SYNAPSE_PROCESS="$TMP/synapse.json" \
    MYELIN_E2E_B_BASEURL="$BASEURL_B" MYELIN_E2E_B_SERVER_NAME="$SERVER_NAME_B" \
    MYELIN_E2E_B_FEDERATION_URL="https://127.0.0.1:$FEDPORT_B" \
    timeout --kill-after=10 900 .venv/bin/python -m pytest Tests/e2e "$@" 2>&1 | tee "$TMP/logs/pytest.out"; then
    FAILED+=("e2e")
  fi

  for pid_name in "$PID1:myelin serve --all" "$PID2:myelin-client-api" "$PID_B:server B" \
    "$(cat "$TMP/federation-sender.pid"):myelin-federation-sender"; do
    kill -0 "${pid_name%%:*}" 2>/dev/null || { svc_warn "${pid_name#*:} died during the e2e run"; FAILED+=("${pid_name#*:} crashed"); }
  done

  # Graceful shutdown: SIGTERM mid long-poll answers the poll at once and exits 0.
  svc_log "checking that myelin-client-api drains on SIGTERM"
  if .venv/bin/python Tests/e2e/drain_check.py "$BASEURL2" "$PID2"; then
    status=0
    wait "$PID2" || status=$?
    [[ "$status" == 0 ]] || { svc_warn "myelin-client-api exited with $status after SIGTERM"; FAILED+=("drain exit status"); }
  else
    FAILED+=("drain")
  fi
  PID2=""
fi

# One closing line over both runners: Swift Testing's count and pytest's.
summarise_counts() {
  local swift_out="$TMP/logs/swift-test.out" py_out="$TMP/logs/pytest.out" passed=0 failed=0 n
  if [[ -f "$swift_out" ]]; then
    n=$(grep -oE 'Test run with [0-9]+ tests?' "$swift_out" | tail -1 | grep -oE '[0-9]+' || true)
    if grep -qE '✘ Test run with' "$swift_out"; then
      failed=$((failed + $(grep -cE '^✘ Test [^ ]+\(.*\).* failed after' "$swift_out" || true)))
    else
      passed=$((passed + ${n:-0}))
    fi
  fi
  if [[ -f "$py_out" ]]; then
    n=$(grep -oE '[0-9]+ passed' "$py_out" | tail -1 | grep -oE '[0-9]+' || true); passed=$((passed + ${n:-0}))
    n=$(grep -oE '[0-9]+ failed' "$py_out" | tail -1 | grep -oE '[0-9]+' || true); failed=$((failed + ${n:-0}))
    n=$(grep -oE '[0-9]+ errors?' "$py_out" | tail -1 | grep -oE '[0-9]+' || true); failed=$((failed + ${n:-0}))
  fi
  printf 'tests: %d passed, %d failed\n' "$passed" "$failed"
}

if [[ "$COLLECT_ONLY" != 1 ]]; then summarise_counts; fi

if [[ ${#FAILED[@]} -gt 0 ]]; then
  printf '\nFAILED: %s\n' "${FAILED[*]}" >&2
  if declare -F print_server_logs >/dev/null; then
    print_server_logs
    LOGS_SHOWN=1 # the exit cleanup must not print them twice
  fi
  exit 1
fi
if [[ "$COLLECT_ONLY" == 1 ]]; then svc_log "e2e suite collected (no servers started)"; else svc_log "all tests passed"; fi
