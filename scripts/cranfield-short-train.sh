#!/usr/bin/env bash
# A short fine-tune on BM25-mined hard negatives, judged by held-out queries: Cranfield's queries are split
# by a seeded shuffle into 70% for training and 30% held out (the corpus is shared); hard negatives for the
# training queries come from `splade mine --model bm25`; the model is all-MiniLM-L6-v2 turned into a
# SparseEncoder by `splade init`. ndcg@10 on the held-out queries is printed before training and at every
# evaluation (--eval-steps), and the run's model card lists them.
#
#   scripts/cranfield-short-train.sh [OUT] [extra `splade train` options]
#
# Environment (defaults in brackets): SPLADE_DATA [/work/shared/data], SEED [42], STEPS [60], EVAL_STEPS [20],
# NEGATIVES [2], RANGE [3:40], LR [6e-5], BATCH [16], MAX_SEQ [128], THREADS [2].
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-/tmp/splade-cranfield-short}"
shift || true
DATA="${SPLADE_DATA:-/work/shared/data}"
SEED="${SEED:-42}"; STEPS="${STEPS:-60}"; EVAL_STEPS="${EVAL_STEPS:-20}"; NEGATIVES="${NEGATIVES:-2}"
RANGE="${RANGE:-3:40}"; LR="${LR:-6e-5}"; BATCH="${BATCH:-16}"; MAX_SEQ="${MAX_SEQ:-128}"; THREADS="${THREADS:-2}"
CRAN="$DATA/ir/cranfield"; ENCODER="$DATA/models/all-MiniLM-L6-v2-f16"
[ -f "$CRAN/corpus.jsonl" ] || { echo "missing $CRAN (BEIR folder)" >&2; exit 2; }
[ -f "$ENCODER/model.safetensors" ] || { echo "missing $ENCODER" >&2; exit 2; }

dotnet build "$ROOT/src/Splade.Cli" -c Release -v quiet -nologo >/dev/null
SPLADE="$ROOT/src/Splade.Cli/bin/Release/net10.0/splade"
rm -rf "$OUT"; mkdir -p "$OUT/train-q/qrels" "$OUT/heldout-q/qrels"
t0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - t0 )) s] $*" >&2; }

stamp "split the judged Cranfield queries 70 / 30 (seed $SEED)"
python3 - "$CRAN" "$OUT" "$SEED" <<'PY'
import json, os, random, sys
cran, out, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(os.path.join(cran, "qrels", "test.tsv"), encoding="utf-8").read().splitlines()
header, rows = lines[0], [l.split("\t") for l in lines[1:] if l.strip()]
judged = sorted({r[0] for r in rows}, key=lambda q: (len(q), q))
random.Random(seed).shuffle(judged)
cut = int(round(0.7 * len(judged)))
parts = {"train-q": set(judged[:cut]), "heldout-q": set(judged[cut:])}
queries = [json.loads(l) for l in open(os.path.join(cran, "queries.jsonl"), encoding="utf-8") if l.strip()]
for name, ids in parts.items():
    d = os.path.join(out, name)
    with open(os.path.join(d, "queries.jsonl"), "w", encoding="utf-8") as f:
        for q in queries:
            if str(q["_id"]) in ids: f.write(json.dumps(q) + "\n")
    with open(os.path.join(d, "qrels", "test.tsv"), "w", encoding="utf-8") as f:
        f.write(header + "\n")
        for r in rows:
            if r[0] in ids: f.write("\t".join(r) + "\n")
    os.symlink(os.path.join(cran, "corpus.jsonl"), os.path.join(d, "corpus.jsonl"))
    print(f"{name}: {len(ids)} queries", file=sys.stderr)
PY

stamp "init from $ENCODER"
"$SPLADE" init --from "$ENCODER" --output "$OUT/init" --max-seq-length "$MAX_SEQ" --decoder-bias -3

stamp "BM25 hard negatives for the training queries (ranks $RANGE, $NEGATIVES per row)"
"$SPLADE" mine --model bm25 --corpus "$CRAN/corpus.jsonl" --queries "$OUT/train-q/queries.jsonl" \
  --qrels "$OUT/train-q/qrels/test.tsv" --negatives "$NEGATIVES" --range "$RANGE" --sampling random --seed "$SEED" \
  --output "$OUT/mined.jsonl"

stamp "train $STEPS steps, held-out evaluation every $EVAL_STEPS"
"$SPLADE" train --model "$OUT/init" --train "$OUT/mined.jsonl" --eval "$OUT/heldout-q" --output "$OUT/model" \
  --epochs 1 --max-steps "$STEPS" --eval-steps "$EVAL_STEPS" --batch-size "$BATCH" --grad-accum 1 --lr "$LR" \
  --warmup-ratio 0.1 --max-seq-length "$MAX_SEQ" --seed "$SEED" --threads "$THREADS" --log-steps 5 "$@"
stamp "done: $OUT/model (held-out metrics in its README.md)"
