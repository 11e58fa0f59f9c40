#!/usr/bin/env bash
# Soak test of `splade serve` on loopback: mixed traffic (encode, search, tokenize, malformed) for a set
# time while another process keeps writing to the index folder the server searches (commits every 50
# documents, automatic merges, `splade index --check` after each round).
#
#   benchmarks/load/soak.sh [MODEL_DIR]      (default: the tiny test model in tests/Splade.Tests/testdata)
#
# Reports requests and status codes by kind, unexpected answers (a valid request not answered 200, any
# 5xx, socket errors), p50/p99 of the valid requests per window, the server's resident memory per window
# (start and end, so a leak shows), the writer's rounds and index checks, and how long SIGTERM took.
# Exits 1 on any unexpected answer, a failed index check or a server that did not stop in time.
#
# Environment: DURATION seconds (default 180), CONCURRENCY clients (default 8), WINDOW seconds per
# report row (default 30), PORT (default 3941), SPLADE (a splade command; default: the Release build here).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MODEL=${1:-$ROOT/tests/Splade.Tests/testdata/models/tiny-splade}
DURATION=${DURATION:-180}
CONCURRENCY=${CONCURRENCY:-8}
WINDOW=${WINDOW:-30}
PORT=${PORT:-3941}
URL="http://127.0.0.1:$PORT"

if [[ -z "${SPLADE:-}" ]]; then
  dotnet build -c Release "$ROOT/src/Splade.Cli" -v quiet -nologo >/dev/null
  SPLADE="dotnet $ROOT/src/Splade.Cli/bin/Release/net10.0/Splade.Cli.dll"
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/splade-soak-XXXXXX")
INDEX="$WORK/index"
SERVER_PID=
WRITER_PID=
cleanup() {
  [[ -n "$WRITER_PID" ]] && kill "$WRITER_PID" 2>/dev/null || true
  [[ -n "$SERVER_PID" ]] && kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# A corpus chunk of N synthetic documents with ids PREFIX0.. (JSON lines {"_id", "text"}).
corpus() {
  python3 - "$1" "$2" <<'EOF'
import json, random, sys
prefix, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(prefix)
words = "search engine sparse vector neural retrieval index query document passage model token weight learned expansion term ranking".split()
for i in range(n):
    print(json.dumps({"_id": f"{prefix}{i}", "text": " ".join(rng.choice(words) for _ in range(40))}))
EOF
}

corpus c0_ 500 > "$WORK/c0.jsonl"
$SPLADE index --model "$MODEL" --corpus "$WORK/c0.jsonl" --index "$INDEX" --commit-every 100 2>/dev/null

$SPLADE serve --model "$MODEL" --index "$INDEX" --host 127.0.0.1 --port "$PORT" --quiet \
  --max-concurrent-requests 64 --shutdown-timeout 10 2> "$WORK/server.log" &
SERVER_PID=$!
for _ in $(seq 1 200); do
  curl -sf "$URL/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$URL/health" >/dev/null || { echo "server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1; }

# The writer: a new chunk every round, committed every 50 documents (automatic merges), then a full check.
(
  round=1; checks_failed=0
  end=$((SECONDS + DURATION))
  while (( SECONDS < end )); do
    corpus "w${round}_" 200 > "$WORK/w.jsonl"
    $SPLADE index --model "$MODEL" --corpus "$WORK/w.jsonl" --index "$INDEX" --commit-every 50 2>/dev/null || echo "writer round $round failed" >&2
    $SPLADE index --check "$INDEX" > "$WORK/check.txt" || { checks_failed=$((checks_failed + 1)); cat "$WORK/check.txt" >&2; }
    round=$((round + 1))
    sleep 2
  done
  echo "$((round - 1)) $checks_failed" > "$WORK/writer.txt"
) &
WRITER_PID=$!

status=0
python3 "$HERE/soak.py" "$URL" "$SERVER_PID" "$DURATION" "$CONCURRENCY" "$WINDOW" || status=1
wait "$WRITER_PID" || true
WRITER_PID=
read -r rounds failed < "$WORK/writer.txt"
docs=$($SPLADE index --check "$INDEX" | head -1)
echo
echo "Index writer: $rounds rounds of 200 documents (commits of 50); index checks failed: $failed; final: $docs"
(( failed == 0 )) || status=1

start=$(date +%s.%N)
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=
stop=$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')")
echo "Server stopped $stop s after SIGTERM (shutdown timeout 10 s)."
python3 -c "import sys; sys.exit(0 if $stop < 12 else 1)" || status=1
exit $status
