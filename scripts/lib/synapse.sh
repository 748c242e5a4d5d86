# shellcheck shell=bash
# Starts a Synapse from the PyPI package beside Myelin, for the tests (as a
# client-API reference and a federation peer) and the benchmark. Source after
# services.sh; it defines one function and runs nothing.

# syn_start DIR PYTHON PG_DATA PG_PORT DB [federation]
#   Creates database DB (C collation, as Synapse requires) on the Postgres
#   server, generates a config in DIR and starts Synapse from there. With
#   "federation", also a TLS federation listener with a self-signed
#   certificate; the server name is then localhost:<that port>.
#   Sets SYNAPSE_URL (client API, plain HTTP), SYNAPSE_PID, SYNAPSE_SERVER_NAME,
#   SYNAPSE_SHARED_SECRET and SYNAPSE_SIGNING_KEY (the key file it generated). The
#   caller registers the stop on exit.
syn_start() {
  local dir=$1 py=$2 pg_data=$3 pg_port=$4 db=$5 mode=${6:-}
  local port fed_port="" extra=()
  svc_free_port port
  SYNAPSE_URL="http://127.0.0.1:$port"
  SYNAPSE_SERVER_NAME="localhost:$port"
  SYNAPSE_SHARED_SECRET=$(openssl rand -hex 32)
  mkdir -p "$dir"
  if [[ "$mode" == federation ]]; then
    svc_free_port fed_port
    SYNAPSE_SERVER_NAME="localhost:$fed_port"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null || svc_die "openssl could not make Synapse's certificate"
    extra=(--federation-port "$fed_port" --tls-cert "$dir/tls.crt" --tls-key "$dir/tls.key")
  fi
  svc_pg_psql "$pg_data" -c "CREATE DATABASE $db OWNER myelin ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
  (cd "$dir" && "$py" -m synapse.app.homeserver --server-name "$SYNAPSE_SERVER_NAME" \
    --config-path "$dir/homeserver.yaml" --data-directory "$dir" \
    --generate-config --report-stats=no) >"$dir/generate.log" 2>&1 ||
    svc_die "Synapse config generation failed: $(tail -n 20 "$dir/generate.log")"
  SYNAPSE_SIGNING_KEY="$dir/$SYNAPSE_SERVER_NAME.signing.key"
  "$py" "$(dirname "${BASH_SOURCE[0]}")/synapse_config.py" --config "$dir/homeserver.yaml" \
    --port "$port" --pg-port "$pg_port" --db "$db" --shared-secret "$SYNAPSE_SHARED_SECRET" "${extra[@]}"
  svc_log "starting Synapse $SYNAPSE_SERVER_NAME, client API on $SYNAPSE_URL (first start creates its schema)"
  # From its own folder: its log config writes relative to it.
  svc_spawn SYNAPSE_PID "$dir/synapse.out" \
    bash -c 'cd "$1" && exec "$2" -m synapse.app.homeserver -c "$1/homeserver.yaml"' _ "$dir" "$py"
  svc_wait_http "$SYNAPSE_URL/health" 300 "$SYNAPSE_PID" || {
    tail -n 40 "$dir/homeserver.log" "$dir/synapse.out" >&2 2>/dev/null
    svc_die "Synapse did not become healthy"
  }
}
