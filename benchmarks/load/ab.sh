#!/usr/bin/env bash
# Side-by-side A/B of dynamic batching: two servers (batching on; --max-batch-requests 1) loaded
# by two wrk runs at the same time, so both see the same machine load. On a busy machine this
# comparison stays fair where back-to-back runs do not.
#
#   benchmarks/load/ab.sh MODEL_DIR [query|doc] [CONNECTIONS]
#
# Environment: DURATION (default 10s), PORT (default 3941; the second server uses PORT+1),
# THREADS (server compute threads), SPLADE (path of the splade binary).
set -euo pipefail

MODEL=${1:?usage: benchmarks/load/ab.sh MODEL_DIR [query|doc] [CONNECTIONS]}
KIND=${2:-query}
CONNS=${3:-16}
DURATION=${DURATION:-10s}
PORT=${PORT:-3941}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
if [[ -z "${SPLADE:-}" ]]; then
  dotnet build -c Release "$ROOT/src/Splade.Cli" -v quiet -nologo >/dev/null
  SPLADE="$ROOT/src/Splade.Cli/bin/Release/net10.0/splade"
fi

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

"$SPLADE" serve --model "$MODEL" --port "$PORT" --quiet ${THREADS:+--threads "$THREADS"} 2>/dev/null & PIDS+=($!)
"$SPLADE" serve --model "$MODEL" --port $((PORT + 1)) --quiet --max-batch-requests 1 ${THREADS:+--threads "$THREADS"} 2>/dev/null & PIDS+=($!)
for p in "$PORT" $((PORT + 1)); do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/health" >/dev/null 2>&1 && break; sleep 0.1; done
done
t=$(( CONNS < 2 ? 1 : 2 ))
for p in "$PORT" $((PORT + 1)); do
  wrk -t 1 -c "$CONNS" -d 2s --timeout 30s -s "$HERE/embed.lua" "http://127.0.0.1:$p/embed_sparse" -- "$KIND" >/dev/null
done
wrk -t "$t" -c "$CONNS" -d "$DURATION" --timeout 30s --latency -s "$HERE/embed.lua" "http://127.0.0.1:$PORT/embed_sparse" -- "$KIND" >/tmp/ab-batched.$$ &
a=$!
wrk -t "$t" -c "$CONNS" -d "$DURATION" --timeout 30s --latency -s "$HERE/embed.lua" "http://127.0.0.1:$((PORT + 1))/embed_sparse" -- "$KIND" >/tmp/ab-unbatched.$$ &
b=$!
wait "$a" "$b"
for mode in batched unbatched; do
  awk -v mode="$mode" -v kind="$KIND" -v c="$CONNS" '
    /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 } /Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { errors += $5 } /Socket errors:/ { gsub(",", ""); errors += $4 + $6 + $8 + $10 }
    END { printf "| %s | %s | %s (side by side) | %s | %s | %s | %d |\n", kind, c, mode, rps, p50, p99, errors }' "/tmp/ab-$mode.$$"
  rm -f "/tmp/ab-$mode.$$"
done
