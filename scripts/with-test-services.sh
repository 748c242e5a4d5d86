#!/usr/bin/env bash
# Runs a command against a throw-away Postgres and Redis, started exactly as
# scripts/test.sh starts them, and stops them afterwards.
#
#   scripts/with-test-services.sh swift test --filter IntegrationTests
#
# The command sees MYELIN_TEST_DATABASE_URL and MYELIN_TEST_REDIS_URL, as in a
# full test run. Its exit status is this script's exit status.
# Set MYELIN_TEST_KEEP=1 to keep the temporary folder (server logs, data).
# Cleanup snippets are single-quoted on purpose: they expand at exit time.
# shellcheck disable=SC2016
set -euo pipefail

[[ $# -gt 0 ]] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
svc_install_traps

svc_ensure_packages

TMP=$(mktemp -d "${TMPDIR:-/tmp}/myelin-test.XXXXXX")
chmod 0755 "$TMP"
if [[ "${MYELIN_TEST_KEEP:-0}" == 1 ]]; then
  svc_on_exit 'svc_log "kept $TMP"'
else
  svc_on_exit 'rm -rf "$TMP"'
fi

svc_start_test_services "$TMP"

svc_log "running: $*"
# Not exec: the cleanup trap must still run when the command ends.
"$@"
