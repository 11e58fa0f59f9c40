#!/usr/bin/env bash
# Load test of `splade serve` with wrk (Debian: apt-get install -y wrk), on loopback only.
#
#   benchmarks/load/run.sh MODEL_DIR
#
# For each server mode (dynamic batching on; batching off with --max-batch-requests 1), each
# payload (10-token queries, ~80-token documents) and each connection count, runs wrk for
# DURATION and prints one Markdown table row: requests/s, p50, p99 and errors (non-2xx responses
# plus socket errors and timeouts).
#
# Environment: DURATION (default 10s), CONNECTIONS (default "1 16 64"), PORT (default 3931),
# MODES (default "batched unbatched"), KINDS (default "query doc"), THREADS (server compute
# threads, default: all cores), SPLADE (path of the splade binary; default: Release build here).
set -euo pipefail

MODEL=${1:?usage: benchmarks/load/run.sh MODEL_DIR}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"1 16 64"}
PORT=${PORT:-3931}
MODES=${MODES:-"batched unbatched"}
KINDS=${KINDS:-"query doc"}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
URL="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
if [[ -z "${SPLADE:-}" ]]; then
  dotnet build -c Release "$ROOT/src/Splade.Cli" -v quiet -nologo >/dev/null
  SPLADE="$ROOT/src/Splade.Cli/bin/Release/net10.0/splade"
fi

SERVER_PID=
stop_server() {
  if [[ -n "$SERVER_PID" ]]; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}
trap stop_server EXIT

start_server() {
  local extra=("$@")
  "$SPLADE" serve --model "$MODEL" --host 127.0.0.1 --port "$PORT" --quiet ${THREADS:+--threads "$THREADS"} "${extra[@]}" \
    2> >(grep -v '^$' >&2) &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    curl -sf "$URL/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not start" >&2
  exit 1
}

# Prints "rps|p50|p99|errors" from wrk --latency output.
parse_wrk() {
  awk '
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    END { printf "%s|%s|%s|%d\n", rps, p50, p99, errors }'
}

echo "| mode | payload | connections | requests/s | p50 | p99 | errors |"
echo "|---|---|---:|---:|---:|---:|---:|"
for mode in $MODES; do
  case "$mode" in
    batched) start_server ;;
    unbatched) start_server --max-batch-requests 1 ;;
    *) echo "unknown mode $mode" >&2; exit 1 ;;
  esac
  for kind in $KINDS; do
    # Warm-up (JIT, workspaces) outside the measurement.
    wrk -t 1 -c 4 -d 2s -s "$HERE/embed.lua" "$URL/embed_sparse" -- "$kind" >/dev/null
    for c in $CONNECTIONS; do
      t=$(( c < 2 ? 1 : 2 ))
      out=$(wrk -t "$t" -c "$c" -d "$DURATION" --timeout 30s --latency -s "$HERE/embed.lua" "$URL/embed_sparse" -- "$kind")
      IFS='|' read -r rps p50 p99 errors <<<"$(parse_wrk <<<"$out")"
      echo "| $mode | $kind | $c | $rps | $p50 | $p99 | $errors |"
    done
  done
  # Batch-size distribution seen by the server in this mode.
  curl -sf "$URL/metrics" | awk '/^splade_batch_size_(sum|count) / { v[$1] = $2 } END { if (v["splade_batch_size_count"] > 0) printf "<!-- %s: %d forward passes, %.2f sequences per pass -->\n", mode, v["splade_batch_size_count"], v["splade_batch_size_sum"] / v["splade_batch_size_count"] }' mode="$mode"
  stop_server
done
