#!/usr/bin/env bash
# Load test of `splade serve` with wrk (Debian: apt-get install -y wrk), on loopback only.
#
#   benchmarks/load/run.sh MODEL_DIR
#
# For each server mode (dynamic batching on; batching off with --max-batch-requests 1), each
# payload (10-token queries, ~80-token documents) and each connection count, runs wrk for
# DURATION and prints one Markdown table row: requests/s, p50, p99, errors (non-2xx responses
# plus socket errors and timeouts), the server's mean sequences per forward pass and its CPU time
# per request.
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

# "count sum" of the server's batch-size histogram (forward passes, sequences).
batch_stats() {
  curl -sf "$URL/metrics" | awk '/^splade_batch_size_count / { c = $2 } /^splade_batch_size_sum / { s = $2 } END { print c + 0, s + 0 }'
}

# Modes are interleaved per configuration (fresh server each run) so that drifting machine load
# does not favour one mode.
# Server CPU time (user + system) per request: unlike requests/s, it hardly moves when other
# processes compete for the cores, so it shows what batching saves even on a busy machine.
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

echo "| payload | connections | mode | requests/s | p50 | p99 | errors | sequences per forward pass | server CPU ms per request |"
echo "|---|---:|---|---:|---:|---:|---:|---:|---:|"
for kind in $KINDS; do
  for c in $CONNECTIONS; do
    for mode in $MODES; do
      case "$mode" in
        batched) start_server ;;
        unbatched) start_server --max-batch-requests 1 ;;
        *) echo "unknown mode $mode" >&2; exit 1 ;;
      esac
      # Warm-up (JIT, workspaces) outside the measurement.
      wrk -t 1 -c "$c" -d 2s --timeout 30s -s "$HERE/embed.lua" "$URL/embed_sparse" -- "$kind" >/dev/null
      read -r passes0 seqs0 <<<"$(batch_stats)"
      cpu0=$(cpu_ticks)
      t=$(( c < 2 ? 1 : 2 ))
      out=$(wrk -t "$t" -c "$c" -d "$DURATION" --timeout 30s --latency -s "$HERE/embed.lua" "$URL/embed_sparse" -- "$kind")
      read -r passes1 seqs1 <<<"$(batch_stats)"
      IFS='|' read -r rps p50 p99 errors <<<"$(parse_wrk <<<"$out")"
      cpu1=$(cpu_ticks)
      per_pass=$(awk -v p=$((passes1 - passes0)) -v s=$((seqs1 - seqs0)) 'BEGIN { printf "%.2f", (p > 0 ? s / p : 0) }')
      cpu_ms=$(awk -v t=$((cpu1 - cpu0)) -v hz="$HZ" -v n=$((seqs1 - seqs0)) 'BEGIN { printf "%.2f", (n > 0 ? 1000 * t / hz / n : 0) }')
      echo "| $kind | $c | $mode | $rps | $p50 | $p99 | $errors | $per_pass | $cpu_ms |"
      stop_server
    done
  done
done
