#!/usr/bin/env bash
# Table 2 of docs/real-model.md: how the FLOPS regularizer weights move the active dimensions. The recipe of
# scripts/train-real-splade.sh, stopped after STEPS steps, once per (query, document) weight pair, then
# ndcg@10 and the active dims on held-out collections (scripts/eval-real-splade.sh).
#
#   scripts/flops-sweep.sh [OUT]
#
# Environment: STEPS [60], WEIGHTS ["0:0 0.005:0.003 0.05:0.03"], COLLECTIONS [adi medline], plus those of
# the two scripts it runs (SPLADE_DATA, SEED, THREADS).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-/tmp/splade-flops-sweep}"
STEPS="${STEPS:-60}"
WEIGHTS="${WEIGHTS:-0:0 0.005:0.003 0.05:0.03}"
COLLECTIONS="${COLLECTIONS:-adi medline}"
MODELS=()
for pair in $WEIGHTS; do
  q="${pair%%:*}" d="${pair##*:}"
  name="q${q}-d${d}"
  # A run whose model is complete is kept (rerunning the sweep resumes it).
  if [ ! -s "$OUT/$name/splade-MiniLM-L6-classic-ir/README.md" ]; then
    SKIP_EVAL=1 "$ROOT/scripts/train-real-splade.sh" "$OUT/$name" --max-steps "$STEPS" --max-seq-length 128 \
      --query-reg "$q" --doc-reg "$d" >&2
  fi
  MODELS+=("$name=$OUT/$name/splade-MiniLM-L6-classic-ir")
done
COLLECTIONS="$COLLECTIONS" "$ROOT/scripts/eval-real-splade.sh" "$OUT/eval" "${MODELS[@]}" >&2
for m in "${MODELS[@]}"; do
  name="${m%%=*}"
  for c in $COLLECTIONS; do
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); m=d.get('metrics', d); print('%s %s ndcg@10 %.4f query_active_dims %.1f corpus_active_dims %.1f avg_flops %.1f' % (sys.argv[2], sys.argv[3], m['dot_ndcg@10'] if 'dot_ndcg@10' in m else m['ndcg@10'], m['query_active_dims'], m['corpus_active_dims'], m['avg_flops']))" \
      "$OUT/eval/$name-$c.json" "$name" "$c"
  done
done
