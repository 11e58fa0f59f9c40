#!/usr/bin/env bash
# Real SPLADE vectors for the search measurements of docs/real-model.md (tables 2-5).
#
#   scripts/real-vectors.sh MODEL [OUT]
#
# Writes under OUT (default /tmp/splade-real-vectors):
#   corpus-8.jsonl      the documents of all eight classic collections, ids "collection/id" (about 25k)
#   corpus-shuf-K.jsonl for K = 1..VARIANTS: every document again with its sentences shuffled (seeded), ids
#                       "collection/id#sK": with truncation at max_seq_length these encode to different,
#                       still real vectors, so the corpus grows without synthetic terms
#   queries-8.jsonl     the judged queries of all eight collections, ids "collection/id"
#   docs-8.vec.jsonl, docs-shuf-K.vec.jsonl, queries-8.vec.jsonl   `splade encode` output (indices format)
#   docs-all.vec.jsonl  docs-8 followed by every variant
#
# Environment: SPLADE_DATA [/work/shared/data], VARIANTS [2], SEED [42], THREADS [2], PRECISION [fp32].
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
MODEL="${1:?usage: scripts/real-vectors.sh MODEL [OUT]}"
OUT="${2:-/tmp/splade-real-vectors}"
DATA="${SPLADE_DATA:-/work/shared/data}"
VARIANTS="${VARIANTS:-2}"
SEED="${SEED:-42}"
THREADS="${THREADS:-2}"
PRECISION="${PRECISION:-fp32}"
ALL="cranfield cisi cacm lisa medline npl time adi"
for c in $ALL; do [ -f "$DATA/ir/$c/corpus.jsonl" ] || { echo "missing $DATA/ir/$c (BEIR folder)" >&2; exit 2; }; done
command -v jq >/dev/null || { echo "jq is needed to merge the corpora" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is needed to shuffle sentences" >&2; exit 2; }

dotnet build "$ROOT/src/Splade.Cli" -c Release -v quiet -nologo >/dev/null
SPLADE="$ROOT/src/Splade.Cli/bin/Release/net10.0/splade"
mkdir -p "$OUT"
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" >&2; }

: > "$OUT/corpus-8.jsonl"
: > "$OUT/queries-8.jsonl"
for c in $ALL; do
  jq -c --arg c "$c" '{_id: ($c + "/" + (._id|tostring)), title: (.title // ""), text: .text}' \
    "$DATA/ir/$c/corpus.jsonl" >> "$OUT/corpus-8.jsonl"
  jq -c --arg c "$c" '{_id: ($c + "/" + (._id|tostring)), text: .text}' \
    "$DATA/ir/$c/queries.jsonl" >> "$OUT/queries-8.jsonl"
done
stamp "$(wc -l < "$OUT/corpus-8.jsonl") documents, $(wc -l < "$OUT/queries-8.jsonl") queries"

for k in $(seq 1 "$VARIANTS"); do
  python3 - "$OUT/corpus-8.jsonl" "$OUT/corpus-shuf-$k.jsonl" "$SEED" "$k" <<'EOF'
import json, random, re, sys
src, dst, seed, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
split = re.compile(r'(?<=[.!?])\s+')
with open(src, encoding='utf-8') as f, open(dst, 'w', encoding='utf-8') as o:
    for line in f:
        d = json.loads(line)
        rng = random.Random(f"{seed}/{k}/{d['_id']}")
        parts = [p for p in split.split(d['text']) if p.strip()]
        rng.shuffle(parts)
        o.write(json.dumps({'_id': f"{d['_id']}#s{k}", 'title': d.get('title', ''), 'text': ' '.join(parts)}) + '\n')
EOF
done

enc() { "$SPLADE" encode --model "$MODEL" --threads "$THREADS" --precision "$PRECISION" --resume "$@"; }
stamp "encode queries"
enc --role query --input "$OUT/queries-8.jsonl" --output "$OUT/queries-8.vec.jsonl"
stamp "encode the eight corpora"
enc --input "$OUT/corpus-8.jsonl" --output "$OUT/docs-8.vec.jsonl"
cp "$OUT/docs-8.vec.jsonl" "$OUT/docs-all.vec.jsonl.tmp"
for k in $(seq 1 "$VARIANTS"); do
  stamp "encode variant $k"
  enc --input "$OUT/corpus-shuf-$k.jsonl" --output "$OUT/docs-shuf-$k.vec.jsonl"
  cat "$OUT/docs-shuf-$k.vec.jsonl" >> "$OUT/docs-all.vec.jsonl.tmp"
done
mv "$OUT/docs-all.vec.jsonl.tmp" "$OUT/docs-all.vec.jsonl"
stamp "done: $(wc -l < "$OUT/docs-all.vec.jsonl") document vectors in $OUT"
