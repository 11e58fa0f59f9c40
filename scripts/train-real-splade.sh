#!/usr/bin/env bash
# A SPLADE model made from a real trained BERT encoder, and its held-out evaluation (docs/real-model.md).
#
#   1. init:  all-MiniLM-L6-v2 (F16 weights) -> SparseEncoder (`splade init`, tied decoder, decoder bias -3)
#   2. pairs: inverse-cloze pairs from the documents of all eight classic collections (no judgments used)
#   3. mine:  BM25 hard negatives for the judged queries of the training collections (cranfield cisi cacm lisa)
#   4. train: `splade train` with SpladeLoss (MNRL + FLOPS), one epoch, evaluated on ADI (held out) for the card
#   5. eval:  table 1 on the held-out collections (medline npl time adi): BM25, the init, the trained model and
#             RRF of BM25 with each (scripts/eval-real-splade.sh); appended to the model card
#
#   scripts/train-real-splade.sh [OUT] [extra `splade train` options, e.g. --max-steps 2]
#
# Environment (defaults in brackets): SPLADE_DATA [/work/shared/data], SEED [42], NEGATIVES [2], MAX_SEQ_LENGTH [128: training
# truncation; the init keeps 256 for encoding, and a later --max-seq-length option overrides this one],
# PAIRS_PER_CORPUS [500], RANGE [3:40], LR [6e-5], BATCH [16], THREADS [2], SKIP_EVAL [0: set 1 to stop after training],
# EVAL_COLLECTIONS [medline npl time adi].
# Nothing of the held-out collections' judgments is used before step 5 (their documents are, in step 2, as an
# unlabelled corpus).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-/tmp/splade-real}"
shift || true
DATA="${SPLADE_DATA:-/work/shared/data}"
SEED="${SEED:-42}"
NEGATIVES="${NEGATIVES:-2}"
PAIRS_PER_CORPUS="${PAIRS_PER_CORPUS:-500}"
RANGE="${RANGE:-3:40}"
LR="${LR:-6e-5}"
BATCH="${BATCH:-16}"
MAX_SEQ_LENGTH="${MAX_SEQ_LENGTH:-128}"
THREADS="${THREADS:-2}"
TRAIN_QUERIES="cranfield cisi cacm lisa"
HELD_OUT="medline npl time adi"
EVAL_COLLECTIONS="${EVAL_COLLECTIONS:-$HELD_OUT}"
ALL="cranfield cisi cacm lisa medline npl time adi"
ENCODER="$DATA/models/all-MiniLM-L6-v2-f16"
for c in $ALL; do [ -f "$DATA/ir/$c/corpus.jsonl" ] || { echo "missing $DATA/ir/$c (BEIR folder)" >&2; exit 2; }; done
[ -f "$ENCODER/model.safetensors" ] || { echo "missing $ENCODER" >&2; exit 2; }

dotnet build "$ROOT/src/Splade.Cli" -c Release -v quiet -nologo >/dev/null
SPLADE="$ROOT/src/Splade.Cli/bin/Release/net10.0/splade"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if ! git -C "$ROOT" diff --quiet HEAD 2>/dev/null; then COMMIT="$COMMIT+local-changes"; fi
mkdir -p "$OUT/data"
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" >&2; }

stamp "1. init from $ENCODER"
"$SPLADE" init --from "$ENCODER" --output "$OUT/init" --max-seq-length 256 --decoder-bias -3

stamp "2. inverse-cloze pairs ($PAIRS_PER_CORPUS per corpus, $NEGATIVES random negatives)"
TRAIN_ARGS=()
for c in $ALL; do
  "$SPLADE" pairs --corpus "$DATA/ir/$c/corpus.jsonl" --output "$OUT/data/pairs-$c.jsonl" \
    --negatives "$NEGATIVES" --max-pairs "$PAIRS_PER_CORPUS" --seed "$SEED"
  TRAIN_ARGS+=(--train "$OUT/data/pairs-$c.jsonl")
done

stamp "3. BM25 hard negatives (ranks $RANGE, random) for the judged queries of $TRAIN_QUERIES"
for c in $TRAIN_QUERIES; do
  "$SPLADE" mine --model bm25 --corpus "$DATA/ir/$c/corpus.jsonl" --queries "$DATA/ir/$c/queries.jsonl" \
    --qrels "$DATA/ir/$c/qrels/test.tsv" --negatives "$NEGATIVES" --range "$RANGE" --sampling random --seed "$SEED" \
    --output "$OUT/data/mined-$c.jsonl"
  TRAIN_ARGS+=(--train "$OUT/data/mined-$c.jsonl")
done

stamp "4. train"
MODEL="$OUT/splade-MiniLM-L6-classic-ir"
rm -rf "$MODEL"
"$SPLADE" train --model "$OUT/init" "${TRAIN_ARGS[@]}" --output "$MODEL" --eval "$DATA/ir/adi" \
  --epochs 1 --batch-size "$BATCH" --grad-accum 1 --lr "$LR" --warmup-ratio 0.05 --seed "$SEED" --threads "$THREADS" --log-steps 10 \
  --max-seq-length "$MAX_SEQ_LENGTH" \
  --card-base-model "all-MiniLM-L6-v2 (sentence-transformers; F16 weights) turned into a SparseEncoder by \`splade init --max-seq-length 256 --decoder-bias -3\`" \
  --card-dataset "inverse-cloze pairs (\`splade pairs --negatives $NEGATIVES --max-pairs $PAIRS_PER_CORPUS\`) from the documents of $ALL" \
  --card-dataset "BM25 hard negatives (\`splade mine --model bm25 --range $RANGE --sampling random --negatives $NEGATIVES\`) for the judged queries of $TRAIN_QUERIES" \
  --card-note "Made by scripts/train-real-splade.sh at commit $COMMIT, seed $SEED." \
  --card-note "Held out: every query and judgment of $HELD_OUT (their documents are among the unlabelled pair corpora). The evaluation below is on ADI, held out; with one epoch it selects nothing." \
  "$@"
stamp "trained: $MODEL"

if [ "${SKIP_EVAL:-0}" = 1 ]; then exit 0; fi
stamp "5. held-out evaluation ($EVAL_COLLECTIONS)"
SPLADE="$SPLADE" COLLECTIONS="$EVAL_COLLECTIONS" THREADS="$THREADS" SPLADE_DATA="$DATA" \
  "$ROOT/scripts/eval-real-splade.sh" "$OUT/eval" init="$OUT/init" trained="$MODEL" > /dev/null
{
  echo
  echo "## Held-out retrieval (BM25, the untrained init, this model, and RRF with BM25)"
  echo
  echo "ndcg@10, mrr@10 and recall@100 on collections none of whose queries or judgments were used in training (scripts/eval-real-splade.sh):"
  echo
  cat "$OUT/eval/table1.md"
} >> "$MODEL/README.md"
cat "$OUT/eval/table1.md"
stamp "done: model $MODEL (card README.md), tables $OUT/eval"
