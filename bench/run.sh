#!/usr/bin/env bash
# The OpenStudio benchmark: seeds 10,000 artworks (3 images each) from 200 artists, 1,000
# collectors and 3,000 orders, serves them from a release build, and loads each case with
# wrk at 32 connections. Prints requests/s, p50 and p99 latency per case, and the server's
# peak memory (VmHWM). One wrk thread: on a 2-core machine a second one competes with
# the server for CPU and shows up as tail latency that is the load generator's, not ours.
#
#   bench/run.sh                 # both engines
#   bench/run.sh sqlite          # or: postgres
#   DURATION=20s bench/run.sh    # longer runs
#   BENCH_ARTWORKS=50000 bench/run.sh   # a larger catalogue
#   ONLY='detail|whole' bench/run.sh     # only the cases whose names match
#   PG_ADMIN='postgres://postgres@127.0.0.1:5432/postgres?sslmode=prefer' bench/run.sh postgres
#                                # the server's URL takes PG_ADMIN's parameters (here
#                                # sqlx's default: TLS when the server offers it)
#
# Needs wrk (installed from Debian's packages if missing) and, for PostgreSQL, the local
# server on 127.0.0.1:5432 (user postgres, trust auth).
set -euo pipefail
cd "$(dirname "$0")/.."

ENGINES=${1:-both}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
PORT=${BENCH_PORT:-18931}
# Without TLS, as README recommends for a PostgreSQL on the same machine.
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
PASSWORD=bench-lantern-harbour-42

if ! command -v wrk >/dev/null; then
  apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet --bin openstudio --example bench_seed --example password_cost --example stream_bench --example ceiling

work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"email":"collector200@bench.example","password":"$PASSWORD"}'
wrk.headers["Content-Type"] = "application/json"
LUA

login() {
  curl -sf "http://127.0.0.1:$PORT/api/members/login/" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/'
}

# A web session's cookie, opened through the login page (its form token included).
session() {
  local jar="$work/jar" csrf
  rm -f "$jar"
  csrf=$(curl -sf -c "$jar" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n 1)
  curl -sf -b "$jar" -c "$jar" -o /dev/null "http://127.0.0.1:$PORT/login" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=$1" --data-urlencode "password=$PASSWORD"
  awk '$6 == "os_session" {print "os_session=" $7}' "$jar"
}

# What a marketplace page weighs with its stylesheet and scripts (before images).
page_weight() {
  local html total=0 asset
  html=$(curl -s "http://127.0.0.1:$PORT/artworks")
  total=$(printf '%s' "$html" | wc -c)
  for asset in $(grep -o '/static/[a-z]*\.[0-9a-f]*\.\(css\|js\)' <<<"$html" | sort -u); do
    total=$((total + $(curl -s "http://127.0.0.1:$PORT$asset" | wc -c)))
  done
  printf '| %s | marketplace page + CSS + JS (target < 100 KB) | %.1f KB | | | |\n' "$ENGINE" "$(awk -v b="$total" 'BEGIN {print b / 1024}')"
}

# Whether a case runs: all of them, or those whose name matches ONLY (an extended regex).
selected() {
  [ -z "${ONLY:-}" ] || grep -qE "$ONLY" <<<"$1"
}

# wrk_case NAME PATH [TOKEN or os_session=COOKIE] [LUA]: one line of the table.
wrk_case() {
  local name=$1 path=$2 token=${3:-} script=${4:-} items=${5:-}
  selected "$name" || return 0
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)
  case "$token" in
    "") ;;
    os_session=*) args+=(-H "Cookie: $token") ;;
    *) args+=(-H "Authorization: Bearer $token") ;;
  esac
  [ -n "$script" ] && args+=(-s "$script")
  local out
  # A short warm-up first: connections opened, statements prepared, pages cached.
  wrk "${args[@]/#-d*/-d2s}" "http://127.0.0.1:$PORT$path" >/dev/null
  out=$(wrk "${args[@]}" "http://127.0.0.1:$PORT$path")
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  local share=""
  [ -n "${CEILING:-}" ] && [ "$CEILING" -gt 0 ] && share=$(awk -v r="$rps" -v c="$CEILING" 'BEGIN {printf "%.2f", r / c}')
  [ -n "$items" ] && name="$name ($(awk -v r="$rps" -v n="$items" 'BEGIN {printf "%.0fk", r * n / 1000}') artworks/s)"
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$ENGINE" "$name" "$rps" "$p50" "$p99" "${errors:-0}" "$share"
}

# This machine's HTTP ceiling in this run: the project's server loop with one handler
# answering a body the size of the artwork detail's, nothing else.
ceiling_case() {
  local size
  size=$(curl -s "http://127.0.0.1:$PORT/api/artworks/5000/" | wc -c)
  PORT=$((PORT + 1)) BODY_BYTES=$size ./target/release/examples/ceiling &
  local pid=$!
  for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$((PORT + 1))/" && break; sleep 0.1; done
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)
  wrk "${args[@]/#-d*/-d2s}" "http://127.0.0.1:$((PORT + 1))/" >/dev/null
  local out
  out=$(wrk "${args[@]}" "http://127.0.0.1:$((PORT + 1))/")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  CEILING=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  printf '| %s | ceiling: empty handler, %s-byte body | %s | %s | %s | 0 | 1.00 |\n' "$ENGINE" "$size" "$CEILING" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}

# The worst search the probe found: 16 common words and every filter, uncached (each
# request a different price bound, so no two share a cache entry), one at a time.
worst_search() {
  local words="harbour+dawn+forest+river+portrait+city+garden+storm+quiet+blue+red+golden+winter+summer+night+morning"
  local times=()
  for i in $(seq 1 21); do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' \
      "http://127.0.0.1:$PORT/api/artworks/?q=$words&for_sale=true&medium=painting&medium=ceramics&min_price=1&max_price=$((90000 + i))&year_min=1000&year_max=2100&ordering=-created&per_page=50")")
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '| %s | worst search, uncached (21 requests) | | %.1fms | max %.1fms | |\n' "$ENGINE" \
    "$(sed -n 11p <<<"$sorted" | awk '{print $1 * 1000}')" "$(tail -n 1 <<<"$sorted" | awk '{print $1 * 1000}')"
}

# The whole catalogue as the first version's client loads it (no paging): one request,
# streamed; its size and time.
whole_list() {
  local out
  # The median of five requests, one at a time.
  out=$(for _ in 1 2 3 4 5; do
    curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "http://127.0.0.1:$PORT/api/artworks/"
  done | sort -k2 -n | sed -n 3p)
  local count
  count=$(curl -s "http://127.0.0.1:$PORT/api/artworks/?per_page=1" -D - -o /dev/null | awk 'tolower($1) == "x-total-count:" {print $2 + 0}')
  printf '| %s | whole list, one request (median of 5): %s artworks, %.1f MB (%.0fk artworks/s) | | %.0f ms | | |\n' "$ENGINE" \
    "$count" "$(awk '{print $1 / 1048576}' <<<"$out")" "$(awk -v n="$count" '{print n / $2 / 1000}' <<<"$out")" \
    "$(awk '{print $2 * 1000}' <<<"$out")"
}

# 1,000 open notification streams (5 for each of 200 artists): the server's memory per
# stream, and the delay from a purchase request to its event on the artist's streams
# while wrk loads the catalogue.
streams_case() {
  local url=$1
  wrk -t1 -c"$CONNECTIONS" -d30s "http://127.0.0.1:$PORT/api/artworks/?per_page=50" >"$work/wrk-under-streams.txt" &
  local load=$!
  BASE="http://127.0.0.1:$PORT" DATABASE_URL="$url" SECRET_KEY=bench-secret-key-of-at-least-thirty-two-bytes \
    SERVER_PID=$server_pid STREAMS=1000 ORDERS=200 ./target/release/examples/stream_bench |
    while IFS= read -r line; do printf '| %s | streams: %s | | | | |\n' "$ENGINE" "$line"; done
  wait "$load"
  printf '| %s | list page of 50, meanwhile | %s | | | |\n' "$ENGINE" \
    "$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$work/wrk-under-streams.txt")"
}

# start_server URL CATALOGUE_CACHE_MS
start_server() {
  DATABASE_URL="$1" SECRET_KEY=bench-secret-key-of-at-least-thirty-two-bytes PORT=$PORT RUST_LOG=warn \
    AUTH_REQUESTS_PER_IP_PER_MINUTE=0 CATALOGUE_CACHE_MS=$2 \
    DATA_DIR="$work" ./target/release/openstudio serve >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/" >/dev/null && break; sleep 0.1; done
}

stop_server() {
  local rss
  rss=$(awk '/VmHWM/ {printf "%.0f MB", $2 / 1024}' "/proc/$server_pid/status")
  printf '| %s | peak RSS (%s) | %s | | | |\n' "$ENGINE" "$1" "$rss"
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

# The catalogue's list cases; each row is also counted in artworks/s.
list_cases() {
  wrk_case "list page of 50$1" "/api/artworks/?per_page=50" "" "" 50
  wrk_case "list page of 200$1" "/api/artworks/?per_page=200" "" "" 200
  wrk_case "list, filtered$1" "/api/artworks/?medium=painting&min_price=100&max_price=3000&ordering=-price&per_page=50" "" "" 50
  wrk_case "list, q=$1" "/api/artworks/?q=harbour%20dawn&per_page=50" "" "" 50
  wrk_case "list, price range$1" "/api/artworks/?min_price=100&max_price=3000&per_page=50" "" "" 50
}

run_engine() {
  ENGINE=$1
  local url
  case "$ENGINE" in
    sqlite) url="sqlite://$work/bench.db?mode=rwc" ;;
    postgres)
      psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS openstudio_bench WITH (FORCE)" >/dev/null
      psql "$PG_ADMIN" -qc "CREATE DATABASE openstudio_bench" >/dev/null
      # PG_ADMIN's parameters (say ?sslmode=prefer) carry over to the server's URL.
      local base=${PG_ADMIN%%\?*}
      url="${base%/*}/openstudio_bench${PG_ADMIN#"$base"}"
      ;;
    *) echo "unknown engine $ENGINE" >&2; exit 2 ;;
  esac
  echo "== $ENGINE: seeding" >&2
  DATABASE_URL="$url" BENCH_ARTWORKS=${BENCH_ARTWORKS:-10000} ./target/release/examples/bench_seed >&2
  start_server "$url" 1000
  local artist collector
  artist=$(login artist0@bench.example)
  collector=$(login collector200@bench.example)
  echo "== $ENGINE: loading ($CONNECTIONS connections, $DURATION a case)" >&2
  ceiling_case
  list_cases ", cached"
  wrk_case "artwork detail" "/api/artworks/5000/"
  wrk_case "unviewed-orders" "/api/orders/unviewed-orders/" "$collector"
  wrk_case "seller's orders, page of 50" "/api/orders/seller/?per_page=50" "$artist"
  wrk_case "seller's orders, whole list" "/api/orders/seller/" "$artist"
  wrk_case "buyer's orders, page of 50" "/api/orders/purchase-requests/?per_page=50" "$collector"
  wrk_case "login" "/api/members/login/" "" "$work/login.lua"
  local web
  web=$(session collector200@bench.example)
  wrk_case "page: front" "/"
  wrk_case "page: marketplace" "/artworks"
  wrk_case "page: marketplace, filtered" "/artworks?medium=painting&min_price=100&max_price=3000&ordering=-price&page=2"
  wrk_case "page: marketplace, q=" "/artworks?q=harbour+dawn"
  wrk_case "page: artwork" "/artworks/5000"
  wrk_case "page: artwork, logged-in collector (quote, gallery)" "/artworks/5000" "$web"
  wrk_case "page: purchases, logged in" "/purchases" "$web"
  selected "page weight" && page_weight
  selected "streams" && streams_case "$url"
  selected "worst search" && worst_search
  stop_server "cache on"
  echo "== $ENGINE: the catalogue with its cache off" >&2
  start_server "$url" 0
  list_cases ", cache off"
  selected "whole list" && whole_list
  stop_server "cache off"
}

echo "== password-strength estimate, worst case (target 50 ms)" >&2
./target/release/examples/password_cost >&2

echo "| engine | case | requests/s | p50 | p99 | non-2xx | of the ceiling |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
case "$ENGINES" in
  both) run_engine sqlite; run_engine postgres ;;
  *) run_engine "$ENGINES" ;;
esac
