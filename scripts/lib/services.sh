# shellcheck shell=bash
# Shared helpers for the project's scripts: system packages, free ports,
# throw-away or persistent Postgres and Redis servers, background processes
# and cleanup on exit. Source it; it defines functions and runs nothing.
#
# Postgres refuses to run as root, so every Postgres command runs as the
# `postgres` system user (created by Debian's package) on folders it owns.
# Administrative SQL goes over a private Unix socket with peer auth; the
# server itself only listens on 127.0.0.1.

# Guard against double sourcing (the cleanup stack would be reset).
if [[ -n "${_MYELIN_SERVICES_SH:-}" ]]; then return 0; fi
_MYELIN_SERVICES_SH=1

# Debian packages the build, the tests and the dev server need. libhiredis-dev
# and pkg-config: the CHiredis system-library target; postgresql and
# redis-server(+tools): the services; python3-venv: the e2e client venv;
# gcc, libpq-dev and python3-dev: psycopg2, which Synapse's Postgres support builds
# from source.
MYELIN_APT_PACKAGES=(
  ca-certificates curl openssl pkg-config util-linux procps
  postgresql redis-server redis-tools libhiredis-dev
  python3 python3-venv python3-dev gcc libpq-dev
)

svc_log() { printf '==> %s\n' "$*" >&2; }
svc_warn() { printf 'warning: %s\n' "$*" >&2; }
svc_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Cleanup: a stack of shell snippets run in reverse order on exit, whatever
# the reason (success, failure under set -e, Ctrl-C, SIGTERM).
# ---------------------------------------------------------------------------
_SVC_CLEANUP=()
_SVC_CLEANED=0

svc_on_exit() { _SVC_CLEANUP+=("$*"); }

svc_run_cleanup() {
  # Runs once; errors in one step must not skip the others.
  [[ "$_SVC_CLEANED" == 1 ]] && return 0
  _SVC_CLEANED=1
  set +e
  local i
  for ((i = ${#_SVC_CLEANUP[@]} - 1; i >= 0; i--)); do
    eval "${_SVC_CLEANUP[$i]}"
  done
}

svc_install_traps() {
  # EXIT covers normal ends and set -e failures; signals are turned into an
  # exit with the conventional status so EXIT runs exactly once.
  trap 'rc=$?; svc_run_cleanup; exit $rc' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

# ---------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------
_svc_pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

# svc_ensure_packages [extra packages...]: installs whatever is missing;
# `apt-get update` runs once and only when something has to be installed.
svc_ensure_packages() {
  command -v dpkg-query >/dev/null || svc_die "this script expects a Debian-based system (dpkg-query not found)"
  local missing=() p
  for p in "${MYELIN_APT_PACKAGES[@]}" "$@"; do
    _svc_pkg_installed "$p" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  svc_log "installing missing packages: ${missing[*]}"
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || svc_die "need root (or sudo) to install: ${missing[*]}"
    sudo=(sudo)
  fi
  # policy-rc.d style prompts must never block an unattended run.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------------------
# Ports and processes
# ---------------------------------------------------------------------------
_SVC_PORTS_GIVEN=" "

# svc_free_port VAR: stores a free 127.0.0.1 TCP port in VAR, never handing
# out the same port twice in one run (the kernel could offer it again before
# the first user has bound it).
svc_free_port() {
  local __var=$1 __p __try
  for __try in 1 2 3 4 5 6 7 8 9 10; do
    __p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    if [[ "$_SVC_PORTS_GIVEN" != *" $__p "* ]]; then
      _SVC_PORTS_GIVEN+="$__p "
      printf -v "$__var" '%s' "$__p"
      return 0
    fi
  done
  svc_die "could not find a free TCP port"
}

# svc_port_free PORT: true when nothing listens on 127.0.0.1:PORT.
# SO_REUSEADDR, as servers set it, so connections lingering in TIME_WAIT
# from a previous run do not count as "in use".
svc_port_free() {
  python3 -c 'import socket,sys
s=socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()' "$1"
}

# svc_stop_pid PID [NAME] [GRACE_SECONDS]: SIGTERM, wait, then SIGKILL.
svc_stop_pid() {
  local pid=$1 name=${2:-process} grace=${3:-15} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    svc_warn "$name (pid $pid) ignored SIGTERM for ${grace}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Reap it if it is our child, so no zombie outlives the script.
  wait "$pid" 2>/dev/null || true
}

# svc_spawn VAR LOGFILE CMD...: starts CMD in the background in its own
# process group (so everything it forks can be stopped together) and stores
# its pid in VAR. LOGFILE "-" keeps the script's stdout/stderr.
svc_spawn() {
  local __var=$1 __log=$2
  shift 2
  if [[ "$__log" == - ]]; then
    setsid "$@" </dev/null &
  else
    setsid "$@" </dev/null >"$__log" 2>&1 &
  fi
  printf -v "$__var" '%s' "$!"
}

# svc_stop_group PID [NAME] [GRACE_SECONDS]: SIGTERM to the process group
# started by svc_spawn, wait for its leader, then SIGKILL whatever is left.
svc_stop_group() {
  local pid=$1 name=${2:-process} grace=${3:-15} i
  [[ -n "$pid" ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    svc_warn "$name (pid $pid) ignored SIGTERM for ${grace}s; killing it"
  fi
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# svc_wait_http URL TIMEOUT_SECONDS [PID]: waits for a 2xx answer; gives up
# early if PID (the server that should answer) has died.
svc_wait_http() {
  local url=$1 timeout=$2 pid=${3:-} deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      svc_warn "process $pid exited before $url answered"
      return 1
    fi
    sleep 0.2
  done
  svc_warn "$url did not answer within ${timeout}s"
  return 1
}

# ---------------------------------------------------------------------------
# Postgres
# ---------------------------------------------------------------------------

# Debian installs server binaries per major version, outside PATH.
svc_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$d" && -x "$d/initdb" ]] || svc_die "Postgres server binaries not found (is the postgresql package installed?)"
  printf '%s\n' "$d"
}

# Runs a command as the postgres user from /, so an unreadable working
# directory (e.g. under /root) does not upset initdb or psql.
_svc_as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  elif [[ $(id -un) == postgres ]]; then
    (cd / && "$@")
  else
    (cd / && sudo -u postgres -- "$@")
  fi
}

# Makes DIR exist and be owned by postgres (mode 0700, as Postgres demands),
# and checks that postgres can actually reach it through the parent folders.
_svc_pg_own_dir() {
  local dir=$1
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres:postgres "$dir"
  fi
  chmod 0700 "$dir"
  _svc_as_pg test -w "$dir" ||
    svc_die "the postgres user cannot reach $dir; a parent folder is not traversable (chmod o+x it, or use a folder elsewhere)"
}

# The socket path must fit in sun_path (107 bytes with the file name), so a
# deep folder falls back to a short private folder under /tmp.
_svc_pg_socket_dir() {
  local base=$1 dir="$1/run"
  if ((${#dir} > 80)); then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/myelin-pgsock.XXXXXX")
    chmod 0755 "$dir"
  fi
  mkdir -p "$dir"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$dir"
  printf '%s\n' "$dir"
}

# svc_pg_running BASE: true when the cluster in BASE/data is up. Sets
# SVC_PG_PORT and SVC_PG_SOCKDIR from its postmaster.pid.
svc_pg_running() {
  local base=$1 data="$1/data" bindir
  bindir=$(svc_pg_bindir)
  _svc_as_pg test -f "$data/postmaster.pid" || return 1
  _svc_as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 || return 1
  SVC_PG_PORT=$(_svc_as_pg sed -n 4p "$data/postmaster.pid")
  SVC_PG_SOCKDIR=$(_svc_as_pg sed -n 5p "$data/postmaster.pid")
  return 0
}

# svc_pg_start BASE PORT AUTH [PASSWORD]
#   BASE: folder for this cluster (data/, log, socket); created if needed.
#   AUTH: "trust" (throw-away test clusters) or "scram-sha-256".
#   PASSWORD: password of the `myelin` role (needed for scram).
# Initialises the cluster unless already initialised, starts it on
# 127.0.0.1:PORT, waits until it accepts connections, and ensures role
# `myelin` (LOGIN CREATEDB) and database `myelin` exist.
# Sets SVC_PG_PORT and SVC_PG_SOCKDIR.
svc_pg_start() {
  local base=$1 port=$2 auth=$3 password=${4:-myelin} bindir data sockdir
  bindir=$(svc_pg_bindir)
  data="$base/data"
  mkdir -p "$base"
  _svc_pg_own_dir "$base"

  if ! _svc_as_pg test -f "$data/PG_VERSION"; then
    svc_log "initialising Postgres cluster in $data"
    _svc_as_pg rm -rf "$data"
    _svc_as_pg "$bindir/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=peer --auth-host="$auth" >"$base/initdb.log" 2>&1 ||
      { cat "$base/initdb.log" >&2; svc_die "initdb failed"; }
    # Only the postgres OS user over our private socket, and TCP on
    # loopback; nothing else may connect.
    _svc_as_pg tee "$data/pg_hba.conf" >/dev/null <<EOF
local all postgres peer
host  all all 127.0.0.1/32 $auth
EOF
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "max_connections = 200"
      if [[ "$auth" == trust ]]; then
        # Throw-away clusters trade durability for speed.
        echo "fsync = off"
        echo "synchronous_commit = off"
        echo "full_page_writes = off"
      fi
    } | _svc_as_pg tee -a "$data/postgresql.conf" >/dev/null
  fi

  sockdir=$(_svc_pg_socket_dir "$base")
  svc_log "starting Postgres on 127.0.0.1:$port"
  if ! _svc_as_pg "$bindir/pg_ctl" -D "$data" -l "$base/postgres.log" -w -t 60 \
      -o "-p $port -k $sockdir ${SVC_PG_EXTRA_OPTS:-}" start >/dev/null; then
    tail -n 30 "$base/postgres.log" >&2 || true
    svc_die "Postgres did not start"
  fi
  SVC_PG_PORT=$port
  SVC_PG_SOCKDIR=$sockdir
  svc_pg_wait "$base"
  svc_pg_ensure_db "$base" myelin myelin "$password"
}

# svc_pg_wait BASE: waits until the running cluster accepts TCP connections.
svc_pg_wait() {
  local bindir i
  bindir=$(svc_pg_bindir)
  for ((i = 0; i < 300; i++)); do
    if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$SVC_PG_PORT" -t 1; then return 0; fi
    sleep 0.2
  done
  svc_die "Postgres on port $SVC_PG_PORT is not accepting connections"
}

# svc_pg_psql BASE SQL...: runs SQL as the superuser over the private socket.
svc_pg_psql() {
  local base=$1 bindir
  shift
  bindir=$(svc_pg_bindir)
  _svc_as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$SVC_PG_SOCKDIR" -p "$SVC_PG_PORT" \
    -U postgres -d postgres "$@"
}

# svc_pg_ensure_db BASE DB ROLE PASSWORD: idempotently creates ROLE (with
# PASSWORD, re-set every time so a changed secret takes effect) and DB.
svc_pg_ensure_db() {
  local base=$1 db=$2 role=$3 password=$4 exists
  # Hex/word secrets only; refuse anything that would need SQL quoting.
  [[ "$password" =~ ^[A-Za-z0-9._~-]+$ ]] || svc_die "database password must be URL- and SQL-safe ([A-Za-z0-9._~-])"
  svc_pg_psql "$base" <<EOF
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE "$role" LOGIN CREATEDB PASSWORD '$password';
  ELSE
    ALTER ROLE "$role" LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
EOF
  exists=$(svc_pg_psql "$base" -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")
  if [[ "$exists" != 1 ]]; then
    svc_pg_psql "$base" -c "CREATE DATABASE \"$db\" OWNER \"$role\""
  fi
}

# svc_pg_stop BASE: fast shutdown (rolls back open transactions, no wait for
# clients to disconnect); a no-op when not running.
svc_pg_stop() {
  local base=$1 data="$1/data" bindir
  bindir=$(svc_pg_bindir)
  _svc_as_pg test -f "$data/postmaster.pid" || return 0
  svc_log "stopping Postgres ($data)"
  _svc_as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
    _svc_as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------

# svc_redis_running DIR: true when the Redis started in DIR is alive; sets
# SVC_REDIS_PORT from DIR/port.
svc_redis_running() {
  local dir=$1 pid
  [[ -f "$dir/redis.pid" && -f "$dir/port" ]] || return 1
  pid=$(cat "$dir/redis.pid")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  SVC_REDIS_PORT=$(cat "$dir/port")
  redis-cli -h 127.0.0.1 -p "$SVC_REDIS_PORT" ${SVC_REDIS_PASSWORD:+--no-auth-warning -a "$SVC_REDIS_PASSWORD"} ping >/dev/null 2>&1
}

# svc_redis_start DIR PORT [PASSWORD]: a loopback-only Redis without
# persistence (Redis only carries wake-ups; Postgres holds the data).
# Sets SVC_REDIS_PORT.
svc_redis_start() {
  local dir=$1 port=$2 password=${3:-} i args
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  rm -f "$dir/redis.pid"
  svc_log "starting Redis on 127.0.0.1:$port"
  args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log")
  if [[ -n "$password" ]]; then args+=(--requirepass "$password"); fi
  redis-server "${args[@]}" || svc_die "redis-server failed to start (see $dir/redis.log)"
  echo "$port" >"$dir/port"
  SVC_REDIS_PORT=$port
  SVC_REDIS_PASSWORD=$password
  for ((i = 0; i < 150; i++)); do
    if redis-cli -h 127.0.0.1 -p "$port" ${password:+--no-auth-warning -a "$password"} ping 2>/dev/null | grep -q PONG; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$dir/redis.log" >&2 || true
  svc_die "Redis on port $port did not answer"
}

# svc_redis_stop DIR: stops the Redis started in DIR, by its pid.
svc_redis_stop() {
  local dir=$1 pid
  [[ -f "$dir/redis.pid" ]] || return 0
  pid=$(cat "$dir/redis.pid")
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    svc_log "stopping Redis (pid $pid)"
    svc_stop_pid "$pid" redis 10
  fi
  rm -f "$dir/redis.pid"
}

# svc_start_test_services TMP: a throw-away Postgres (role and database
# `myelin`, trust auth) and Redis on free ports under TMP, stopped on exit.
# Sets PG_PORT and REDIS_PORT and exports MYELIN_TEST_DATABASE_URL and
# MYELIN_TEST_REDIS_URL, which the Swift tests read.
svc_start_test_services() {
  local tmp=$1
  svc_free_port PG_PORT
  svc_free_port REDIS_PORT
  svc_on_exit "svc_pg_stop \"$tmp/postgres\""
  svc_pg_start "$tmp/postgres" "$PG_PORT" trust myelin
  svc_on_exit "svc_redis_stop \"$tmp/redis\""
  svc_redis_start "$tmp/redis" "$REDIS_PORT"
  export MYELIN_TEST_DATABASE_URL="postgres://myelin:myelin@127.0.0.1:$PG_PORT/myelin"
  export MYELIN_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
}
