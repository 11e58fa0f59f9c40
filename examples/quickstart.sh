#!/usr/bin/env bash
# Encode and search a small corpus with a SPLADE model on the embedded index.
#   examples/quickstart.sh                       # rasyosef/SPLADE-BERT-Mini from the Hugging Face Hub (cached after the first run)
#   examples/quickstart.sh path/to/model-folder  # a local checkpoint folder, works offline
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
model="${1:-rasyosef/SPLADE-BERT-Mini}"
work="${SPLADE_WORK:-$(mktemp -d)}"

dotnet build "$root/src/Splade.Cli" -c Release -o "$root/artifacts/cli" -v quiet -nologo >/dev/null
splade() { "$root/artifacts/cli/splade" "$@"; }

echo "== encode (first documents, top tokens)"
head -n 2 "$here/corpus.jsonl" | splade encode --model "$model" --format tokens --max-active-dims 8

echo "== index $here/corpus.jsonl into $work/index"
splade index --model "$model" --corpus "$here/corpus.jsonl" --index "$work/index"

echo "== search"
splade search --index "$work/index" --model "$model" --top-k 3 "where is oestrogen produced"
splade search --index "$work/index" --model "$model" --queries "$here/queries.jsonl" --top-k 3 --output "$work/run.trec"
cat "$work/run.trec"
