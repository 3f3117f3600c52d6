#!/usr/bin/env bash
# Profiles one read: starts a release server on a seeded database with the page cache
# off, loads PATH with wrk (1 thread, 32 connections) and records the server with perf
# for 6 s; prints wrk's figures and perf's shares by thread, library and symbol.
#
#   DATABASE_URL=sqlite:///tmp/bench/bench.db ./target/release/examples/bench_seed
#   bench/profile.sh sqlite:///tmp/bench/bench.db /api/artworks/5000/ detail
#
# Needs perf (Debian: linux-perf) and wrk; extra server settings in EXTRA ("A=1 B=2").
set -u
cd "$(dirname "$0")/.."
URL=$1 PATH_=$2 NAME=$3 PORT=${BENCH_PORT:-18999}
data=$(mktemp -d)
# shellcheck disable=SC2086
env DATABASE_URL="$URL" SECRET_KEY=bench-secret-key-of-at-least-thirty-two-bytes PORT=$PORT RUST_LOG=warn \
  AUTH_REQUESTS_PER_IP_PER_MINUTE=0 CATALOGUE_CACHE_MS=0 DATA_DIR="$data" ${EXTRA:-} \
  ./target/release/openstudio serve >"$data/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/api/" >/dev/null && break; sleep 0.1; done
wrk -t1 -c32 -d2s "http://127.0.0.1:$PORT$PATH_" >/dev/null
wrk -t1 -c32 -d10s --latency "http://127.0.0.1:$PORT$PATH_" >"$data/wrk.txt" &
load=$!
sleep 1
perf record -F 999 -g -o "/tmp/perf-$NAME.data" -p "$pid" -- sleep 6 >/dev/null 2>&1
wait "$load"
grep -E "Requests/sec|50%|99%" "$data/wrk.txt"
for sort in comm dso symbol; do
  echo "-- by $sort"
  perf report -i "/tmp/perf-$NAME.data" --no-children --sort "$sort" --stdio 2>/dev/null |
    grep -E "^ +[0-9]" | head -n 15 | sed 's/  */ /g' | cut -c1-160
done
