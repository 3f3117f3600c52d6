#!/usr/bin/env bash
# Property-based API testing against the served OpenAPI document: schemathesis (PyPI)
# generates requests for every operation, authenticated as an artist and as a collector,
# and fails on any 5xx or any response the document does not describe.
#
#   bench/schemathesis.sh [path/to/openstudio]    # default: target/debug/openstudio
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/openstudio}
PORT=${ST_PORT:-18951}
EXAMPLES=${ST_EXAMPLES:-10}
command -v st >/dev/null || python3 -m pip install --quiet --disable-pip-version-check schemathesis
work=$(mktemp -d)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export DATA_DIR="$work" DATABASE_URL="sqlite://$work/st.db?mode=rwc" SECRET_KEY=schemathesis-secret-key-0123456789abcdef \
  PORT="$PORT" PUBLIC_URL="http://127.0.0.1:$PORT" RUST_LOG=warn AUTH_REQUESTS_PER_IP_PER_MINUTE=0
"$BIN" seed-demo >/dev/null
"$BIN" serve >"$work/server.log" 2>&1 &
server=$!
API="http://127.0.0.1:$PORT/api"
for _ in $(seq 1 100); do curl -sf "$API/" >/dev/null && break; sleep 0.1; done
token() {
  curl -sf "$API/members/login/" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1@demo.openstudio.example\",\"password\":\"openstudio-demo-gallery-42\"}" |
    sed 's/.*"token":"\([^"]*\)".*/\1/'
}
status=0
for who in ${ST_WHO:-marta.ink june.collects}; do
  echo "== schemathesis as $who"
  (cd "$work" && st run "$API/openapi.json" -H "Authorization: Bearer $(token "$who")" \
    -n "$EXAMPLES" --generation-deterministic \
    -c not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,missing_required_header,unsupported_method,ignored_auth) ||
    status=1
done
if grep -q "panicked" "$work/server.log"; then
  echo "the server panicked:" && grep -A5 panicked "$work/server.log"
  status=1
fi
exit $status
