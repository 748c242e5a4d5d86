#!/usr/bin/env bash
# The project's benchmark (not a test; CI does not run it).
#
#   scripts/bench.sh [--with-synapse] [--quick] [--only LIST] [--pg-stats] [--json PATH]
#
# Builds the release `myelin`, starts a throw-away Postgres and Redis on free
# loopback ports and `myelin serve --all` (rate limits off, registration on);
# with --with-synapse also Synapse from PyPI (venv in .bench/) on the same
# Postgres with its own database. Then runs the same client-server API
# workloads against each server, interleaved (A, B, A, B), from an async
# Python client (scripts/bench/) and wrk, and prints a table. Results go to
# .bench/results-<timestamp>.json and, with --json, to PATH as well.
#
#   --with-synapse  compare against Synapse
#   --quick         small counts, to check the script works (about a minute
#                   per server plus setup)
#   --json PATH     also write the JSON results to PATH
#   --only LIST     run only these workloads (comma-separated: send, wrk, fanout,
#                   sync, sliding_sync, accounts)
#   --pg-stats      load pg_stat_statements and write the statements that took
#                   most time, per database, to .bench/pg-stats-<timestamp>.txt
#
# Note: the throw-away Postgres runs with fsync and synchronous_commit off
# (as the test cluster does), for every server alike.
# Cleanup snippets are single-quoted on purpose: they expand at exit time.
# shellcheck disable=SC2016
set -euo pipefail

WITH_SYNAPSE=0
QUICK=0
JSON_OUT=""
PG_STATS=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --with-synapse) WITH_SYNAPSE=1 ;;
    --quick) QUICK=1 ;;
    --pg-stats) PG_STATS=1 ;;
    --only) ONLY=${2:?--only needs a list}; shift ;;
    --json) JSON_OUT=${2:?--json needs a path}; shift ;;
    --json=*) JSON_OUT=${1#--json=} ;;
    -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'unknown option: %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
  shift
done
# Resolve before the cd below, so a relative path means the caller's folder.
if [[ -n "$JSON_OUT" ]]; then
  JSON_OUT=$(realpath -m -- "$JSON_OUT")
fi

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/synapse.sh
source scripts/lib/synapse.sh
svc_install_traps

# Server settings from the caller's shell must not change what is measured.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^MYELIN_' || true)

svc_ensure_packages wrk

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p .bench
VENV=.bench/venv
# Everything of this run (Postgres data, logs, Synapse's folder) lives here;
# world-traversable so the postgres user can reach its data folder.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/myelin-bench.XXXXXX")
chmod 0755 "$TMP"
mkdir -p "$TMP/logs"
svc_on_exit 'rm -rf "$TMP"'

print_logs() {
  local f
  for f in "$TMP"/logs/*.log "$TMP"/synapse/homeserver.log "$TMP"/synapse/synapse.out; do
    [[ -f "$f" ]] || continue
    printf '\n----- last 40 lines of %s -----\n' "$(basename "$f")" >&2
    tail -n 40 "$f" >&2
  done
}
svc_on_exit '[[ "${rc:-0}" -ne 0 ]] && print_logs'

# --- Python venv (load generator; Synapse when asked) -------------------------
PY_PKGS=(aiohttp)
PY_CHECK='import aiohttp'
if [[ "$WITH_SYNAPSE" == 1 ]]; then
  PY_PKGS+=('matrix-synapse[postgres]')
  PY_CHECK+=', synapse, psycopg2, yaml'
fi
if ! "$VENV/bin/python" -c "$PY_CHECK" 2>/dev/null; then
  svc_log "setting up the benchmark venv in $VENV (${PY_PKGS[*]})"
  "$VENV/bin/python" -c '' 2>/dev/null || { rm -rf "$VENV"; python3 -m venv "$VENV"; }
  "$VENV/bin/python" -m pip install -q "${PY_PKGS[@]}"
fi
# Not realpath: the venv only applies through its own bin/python symlink.
PY="$PWD/$VENV/bin/python"

# --- Build ---------------------------------------------------------------------
svc_log "swift build -c release --product myelin"
swift build -c release --product myelin
BIN=$(swift build -c release --show-bin-path)
[[ -x "$BIN/myelin" ]] || svc_die "$BIN/myelin not found after the build"

# --- Postgres and Redis ----------------------------------------------------------
if [[ "$PG_STATS" == 1 ]]; then
  export SVC_PG_EXTRA_OPTS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c pg_stat_statements.track_planning=on"
fi
svc_start_test_services "$TMP"
PG_BIN=$(svc_pg_bindir)

# --- Postgres's own single-row insert ceiling (before any server loads it) -------
PGBENCH_SECONDS=10
[[ "$QUICK" == 1 ]] && PGBENCH_SECONDS=3
svc_pg_ensure_db "$TMP/postgres" bench_scratch myelin myelin
export PGPASSWORD=myelin
psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U myelin -d bench_scratch \
  -c 'CREATE TABLE scratch (id bigserial PRIMARY KEY, v bigint NOT NULL, body text NOT NULL)'
cat >"$TMP/insert.sql" <<'SQL'
\set v random(1, 1000000000)
INSERT INTO scratch (v, body) VALUES (:v, 'one row, as one message would be');
SQL
svc_log "pgbench: single-row inserts, -c 16 -j 2 -T $PGBENCH_SECONDS, prepared"
"$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U myelin -n -M prepared -c 16 -j 2 \
  -T "$PGBENCH_SECONDS" -f "$TMP/insert.sql" bench_scratch >"$TMP/logs/pgbench.out" 2>&1 ||
  { cat "$TMP/logs/pgbench.out" >&2; svc_die "pgbench failed"; }
TPS=$(sed -nE 's/^tps = ([0-9.]+) \(without initial connection time\)/\1/p' "$TMP/logs/pgbench.out")
LAT=$(sed -nE 's/^latency average = ([0-9.]+) ms/\1/p' "$TMP/logs/pgbench.out")
printf '{"tps": %s, "latency_avg_ms": %s, "clients": 16, "threads": 2, "seconds": %s, "mode": "prepared"}\n' \
  "${TPS:-null}" "${LAT:-null}" "$PGBENCH_SECONDS" >"$TMP/pgbench.json"
svc_log "pgbench: ${TPS:-?} tps"
psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U myelin -d bench_scratch -c 'DROP TABLE scratch'

# --- Myelin ------------------------------------------------------------------------
svc_free_port MYELIN_PORT
MYELIN_URL="http://127.0.0.1:$MYELIN_PORT"
MYELIN_ENV=(
  MYELIN_SERVER_NAME="localhost:$MYELIN_PORT"
  MYELIN_PUBLIC_BASEURL="$MYELIN_URL"
  MYELIN_LISTEN_HOST=127.0.0.1
  MYELIN_LISTEN_PORT="$MYELIN_PORT"
  MYELIN_DATABASE_URL="postgres://myelin:myelin@127.0.0.1:$PG_PORT/myelin"
  MYELIN_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  MYELIN_SIGNING_KEY_PATH="$TMP/signing.key"
  MYELIN_ENABLE_REGISTRATION=true
  MYELIN_REGISTRATION_SHARED_SECRET="$(openssl rand -hex 32)"
  MYELIN_MIGRATE_ON_START=false
  MYELIN_RATE_LIMIT_PER_SECOND=0
  MYELIN_RATE_LIMIT_BURST=0
)
"$BIN/myelin" generate-keys --output "$TMP/signing.key" >/dev/null
env "${MYELIN_ENV[@]}" "$BIN/myelin" migrate >"$TMP/logs/myelin-migrate.log" 2>&1 ||
  svc_die "myelin migrate failed: $(tail -n 20 "$TMP/logs/myelin-migrate.log")"
svc_log "starting myelin serve --all on $MYELIN_URL"
svc_on_exit 'svc_stop_group "${MYELIN_PID:-}" "myelin serve --all"'
svc_spawn MYELIN_PID "$TMP/logs/myelin.log" env "${MYELIN_ENV[@]}" "$BIN/myelin" serve --all
svc_wait_http "$MYELIN_URL/health" 60 "$MYELIN_PID" || svc_die "myelin did not become healthy"
TARGETS=(--target "myelin,$MYELIN_URL,$MYELIN_PID,myelin")

# --- Synapse ---------------------------------------------------------------------
if [[ "$WITH_SYNAPSE" == 1 ]]; then
  svc_on_exit 'svc_stop_group "${SYNAPSE_PID:-}" synapse 20'
  syn_start "$TMP/synapse" "$PY" "$TMP/postgres" "$PG_PORT" synapse
  TARGETS+=(--target "synapse,$SYNAPSE_URL,$SYNAPSE_PID,synapse")
fi

# --- Workloads ---------------------------------------------------------------------
RESULTS=".bench/results-$STAMP.json"
ARGS=("${TARGETS[@]}" --pg-port "$PG_PORT" --pgbench-json "$TMP/pgbench.json" --json "$RESULTS"
  --meta "cpus=$(nproc)" --meta "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)")
[[ -n "$JSON_OUT" ]] && ARGS+=(--json "$JSON_OUT")
[[ -n "${ONLY:-}" ]] && ARGS+=(--only "$ONLY")
if [[ "$QUICK" == 1 ]]; then
  ARGS+=(--quick --max-seconds 300)
  LIMIT=600
else
  ARGS+=(--max-seconds 2400)
  LIMIT=3600
fi
svc_log "running the workloads (${TARGETS[*]})"
# In its own process group (with any wrk it starts) and waited for in the
# background, so Ctrl-C runs the cleanup at once instead of after the run.
# The driver bounds itself; timeout is only a backstop.
svc_on_exit 'svc_stop_group "${DRIVER_PID:-}" "benchmark driver" 5'
svc_spawn DRIVER_PID - timeout --kill-after=10 "$LIMIT" "$PY" scripts/bench/main.py "${ARGS[@]}"
wait "$DRIVER_PID"

if [[ "$PG_STATS" == 1 ]]; then
  STATS=".bench/pg-stats-$STAMP.txt"
  for db in myelin synapse; do
    svc_pg_psql "$TMP/postgres" -d "$db" -c 'SELECT 1' >/dev/null 2>&1 || continue
    printf '== %s\n' "$db"
    svc_pg_psql "$TMP/postgres" -d "$db" -P pager=off -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
      -c "SELECT calls, plans, round(total_exec_time::numeric, 1) AS exec_ms, round(total_plan_time::numeric, 1) AS plan_ms,
                 round(mean_exec_time::numeric, 3) AS mean_ms, rows,
                 left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query
          FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
          WHERE d.datname = '$db' ORDER BY total_exec_time + total_plan_time DESC LIMIT 40"
  done >"$STATS" 2>&1
  svc_log "statement statistics in $STATS"
fi
