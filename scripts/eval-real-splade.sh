#!/usr/bin/env bash
# Table 1 of docs/real-model.md: ndcg@10, mrr@10 and recall@100 on held-out collections for BM25, each
# model given, and the reciprocal rank fusion (k = 60) of BM25 with each model. Every run and metrics file
# is kept in OUT; the table (markdown) goes to OUT/table1.md and stdout; timings go to stderr.
#
#   scripts/eval-real-splade.sh OUT NAME=MODEL_DIR [NAME=MODEL_DIR ...]
#
# Environment: COLLECTIONS (default "medline npl time adi"), SPLADE_DATA (default /work/shared/data),
# THREADS (default 2), SPLADE (a built splade binary; default: build src/Splade.Cli).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:?usage: eval-real-splade.sh OUT NAME=MODEL_DIR [...]}"
shift
DATA="${SPLADE_DATA:-/work/shared/data}/ir"
COLLECTIONS="${COLLECTIONS:-medline npl time adi}"
THREADS="${THREADS:-2}"
if [ -z "${SPLADE:-}" ]; then
  dotnet build "$ROOT/src/Splade.Cli" -c Release -v quiet -nologo >/dev/null
  SPLADE="$ROOT/src/Splade.Cli/bin/Release/net10.0/splade"
fi
mkdir -p "$OUT"
metric() { # file metric -> value with 4 decimals
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); m=d.get('metrics', d); print('%.4f' % m[sys.argv[2]])" "$1" "$2"
}
evaluate() { # name model collection
  local name="$1" model="$2" c="$3" start end
  if [ -s "$OUT/$name-$c.json" ] && [ -s "$OUT/$name-$c.run" ]; then return; fi
  start=$(date +%s.%N)
  "$SPLADE" eval --model "$model" --data "$DATA/$c" --output "$OUT/$name-$c.json" --run "$OUT/$name-$c.run" \
    --recall-at 100 --threads "$THREADS" > "$OUT/$name-$c.txt" 2> "$OUT/$name-$c.log"
  end=$(date +%s.%N)
  printf '%s on %s: %.1f s\n' "$name" "$c" "$(echo "$end - $start" | bc)" | tee -a "$OUT/times.txt" >&2
}
rows=("bm25")
for c in $COLLECTIONS; do evaluate bm25 bm25 "$c"; done
for spec in "$@"; do
  name="${spec%%=*}"; model="${spec#*=}"
  [ -d "$model" ] || { echo "no model folder '$model' for $name" >&2; exit 2; }
  rows+=("$name")
  for c in $COLLECTIONS; do
    evaluate "$name" "$model" "$c"
    "$SPLADE" eval --fuse "$OUT/bm25-$c.run" --fuse "$OUT/$name-$c.run" --data "$DATA/$c" \
      --output "$OUT/rrf-bm25+$name-$c.json" --recall-at 100 > "$OUT/rrf-bm25+$name-$c.txt" 2>/dev/null
  done
  rows+=("rrf-bm25+$name")
done
{
  header="| system |"; rule="|:--|"
  for c in $COLLECTIONS; do header+=" $c ndcg@10 | mrr@10 | R@100 |"; rule+="--:|--:|--:|"; done
  header+=" mean ndcg@10 |"; rule+="--:|"
  echo "$header"; echo "$rule"
  for r in "${rows[@]}"; do
    line="| $r |"; sum=0; n=0
    for c in $COLLECTIONS; do
      f="$OUT/$r-$c.json"
      nd=$(metric "$f" dot_ndcg@10); line+=" $nd | $(metric "$f" dot_mrr@10) | $(metric "$f" dot_recall@100) |"
      sum=$(echo "$sum + $nd" | bc -l); n=$((n + 1))
    done
    line+=" $(printf '%.4f' "$(echo "$sum / $n" | bc -l)") |"
    echo "$line"
  done
} | tee "$OUT/table1.md"
