#!/usr/bin/env bash
# Fine-tuning on real data in a few minutes on two cores: the tiny SPLADE model is trained on 70% of the
# Cranfield queries (each judged relevant document a positive, one random negative per row) and evaluated
# on the other 30% after every epoch. The held-out ndcg@10 before training and after each epoch is printed
# on stderr; the best epoch is kept in $OUT, whose README.md carries the full metrics table.
#
#   scripts/train-demo.sh [OUT] [extra `splade train` options...]
#
# Data: /work/shared/data/ir/cranfield (or $SPLADE_DATA/ir/cranfield); model: the tiny-splade test fixture.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${1:-/tmp/splade-train-demo}"
shift || true
DATA="${SPLADE_DATA:-/work/shared/data}/ir/cranfield"
MODEL="$ROOT/tests/Splade.Tests/testdata/models/tiny-splade"
[ -d "$DATA" ] || { echo "missing $DATA (BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv)" >&2; exit 2; }

dotnet build "$ROOT/src/Splade.Cli" -c Release -v quiet -nologo >/dev/null
SPLADE="$ROOT/src/Splade.Cli/bin/Release/net10.0/splade"
rm -rf "$OUT"
# Hyper-parameters: a randomly initialised 2-layer model needs a larger learning rate than the card's 6e-5,
# and no gradient accumulation keeps the number of updates up on a small collection.
"$SPLADE" train --model "$MODEL" --train "$DATA" --holdout 0.3 --output "$OUT" \
  --epochs 4 --batch-size 16 --grad-accum 1 --lr 2e-3 --warmup-ratio 0.05 --max-seq-length 64 \
  --seed 42 --log-steps 20 "$@"
echo "model: $OUT (model card: $OUT/README.md)" >&2
