#!/usr/bin/env bash
# Runs on the GPU machine, from the bundle folder of build-bundle.sh (no .NET SDK, no internet needed):
#   1. checks that `splade encode --device cuda` equals `--device cpu` on the checkpoint (identical non-zero sets,
#      max abs diff <= 1e-4), on the texts of MODEL_DIR.expected.json when present, else on built-in texts;
#   2. `splade bench-device --device cuda`: docs/s at 80 and 256 tokens in large batches, batch-1 query latency,
#      device memory; the same on cpu for reference (fewer runs);
#   3. the Python side: sentence-transformers SparseEncoder on the same folder (bench_st.py), fp32 and fp16.
# Every output goes to RESULTS_DIR (JSON and logs); a summary is printed at the end. Exit 1 when vectors differ.
#
#   ./run-device.sh [MODEL_DIR] [RESULTS_DIR]
#   default MODEL_DIR: ../shared/data/models/bert-mini-random-splade (beside the bundle), RESULTS_DIR: ./results
# Environment: SPLADE (the splade binary; default ./splade/splade), PYTHON (default python3), BATCHES (default "256 1024"),
# RUNS (default 3), BENCH_SECONDS (default 3), SKIP_PYTHON=1 to skip step 3, DEVICE (default cuda; ilgpu-cpu runs
# the same steps on ILGPU's CPU accelerator, slowly: a dry run of this script on a machine without a GPU).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MODEL="${1:-$HERE/../shared/data/models/bert-mini-random-splade}"
OUT="${2:-$HERE/results}"
SPLADE="${SPLADE:-$HERE/splade/splade}"
PYTHON="${PYTHON:-python3}"
BATCHES="${BATCHES:-256 1024}"
DEVICE="${DEVICE:-cuda}"
RUNS="${RUNS:-3}"
SECONDS_PER="${BENCH_SECONDS:-3}"
mkdir -p "$OUT"
[ -d "$MODEL" ] || { echo "model folder not found: $MODEL" >&2; exit 2; }
[ -x "$SPLADE" ] || { echo "splade binary not found: $SPLADE (set SPLADE=...)" >&2; exit 2; }

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(cat "$HERE/COMMIT" 2>/dev/null || echo unknown)"
  echo "model: $MODEL"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 || echo "nvidia-smi failed"
  ldconfig -p 2>/dev/null | grep -E "libcuda\.so|libcublas\.so" || echo "libcuda/libcublas not in the ldconfig cache (LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-})"
  echo "load average: $(cat /proc/loadavg)"
} | tee "$OUT/machine.txt"

# cuBLAS may only exist inside a Python wheel (nvidia-cublas-cu12, pulled in by PyTorch): put it on the path.
if ! ldconfig -p 2>/dev/null | grep -q "libcublas\.so\.1[12]"; then
  wheel_lib="$("$PYTHON" -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)"
  if [ -n "$wheel_lib" ] && [ -d "$wheel_lib" ]; then
    export LD_LIBRARY_PATH="$wheel_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "cuBLAS from the Python wheel: $wheel_lib" | tee -a "$OUT/machine.txt"
  fi
fi

echo "== 1. vectors: --device $DEVICE vs --device cpu"
"$PYTHON" - "$MODEL" "$OUT/texts.jsonl" <<'PY'
import json, os, sys
model, out = sys.argv[1], sys.argv[2]
texts = []
expected = model.rstrip("/") + ".expected.json"
if os.path.exists(expected):
    texts = [t["text"] for t in json.load(open(expected))["texts"]]
if not texts:
    texts = ["where is oestrogen produced", "The ovaries produce estrogen, a steroid hormone.", "a",
             "Sparse retrieval with learned term weights expands queries and documents over the vocabulary."]
# Long ones too, so that 256-token sequences and several decoder chunks are covered.
texts += [" ".join(texts) * 3, " ".join(reversed(texts)) * 2]
with open(out, "w") as f:
    for i, t in enumerate(texts):
        f.write(json.dumps({"id": f"t{i}", "text": t}) + "\n")
print(f"{len(texts)} texts -> {out}")
PY
"$SPLADE" encode --model "$MODEL" --input "$OUT/texts.jsonl" --output "$OUT/vectors-cpu.jsonl" --device cpu 2> "$OUT/encode-cpu.log"
set +e
"$SPLADE" encode --model "$MODEL" --input "$OUT/texts.jsonl" --output "$OUT/vectors-$DEVICE.jsonl" --device "$DEVICE" 2> "$OUT/encode-$DEVICE.log"
rc=$?
set -e
if [ $rc -ne 0 ]; then echo "splade encode --device $DEVICE failed (exit $rc):"; cat "$OUT/encode-$DEVICE.log"; exit 1; fi
"$PYTHON" "$HERE/compare_vectors.py" "$OUT/vectors-cpu.jsonl" "$OUT/vectors-$DEVICE.jsonl" | tee "$OUT/compare.json"
same=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["equal"])' "$OUT/compare.json")
# fp16 GEMMs: not equal to fp32; how far (reported, not a pass/fail criterion beyond the run itself).
if "$SPLADE" encode --model "$MODEL" --input "$OUT/texts.jsonl" --output "$OUT/vectors-$DEVICE-fp16.jsonl" --device "$DEVICE" --precision fp16 2> "$OUT/encode-$DEVICE-fp16.log"; then
  "$PYTHON" "$HERE/compare_vectors.py" "$OUT/vectors-cpu.jsonl" "$OUT/vectors-$DEVICE-fp16.jsonl" 0.05 > "$OUT/compare-fp16.json" && cat "$OUT/compare-fp16.json"
else
  echo "splade encode --device $DEVICE --precision fp16 failed:"; tail -3 "$OUT/encode-$DEVICE-fp16.log"
fi

echo "== 2. splade bench-device"
for b in $BATCHES; do
  "$SPLADE" bench-device --model "$MODEL" --device "$DEVICE" --batch "$b" --lengths 80,256 --runs "$RUNS" --seconds "$SECONDS_PER" --json \
    > "$OUT/bench-$DEVICE-b$b.json" 2> "$OUT/bench-$DEVICE-b$b.log" || { echo "bench-device $DEVICE batch $b failed:"; tail -5 "$OUT/bench-$DEVICE-b$b.log"; }
  "$SPLADE" bench-device --model "$MODEL" --device "$DEVICE" --precision fp16 --batch "$b" --lengths 80,256 --runs "$RUNS" --seconds "$SECONDS_PER" --json \
    > "$OUT/bench-$DEVICE-fp16-b$b.json" 2> "$OUT/bench-$DEVICE-fp16-b$b.log" || { echo "bench-device $DEVICE fp16 batch $b failed:"; tail -5 "$OUT/bench-$DEVICE-fp16-b$b.log"; }
done
"$SPLADE" bench-device --model "$MODEL" --device cpu --batch 32 --lengths 80,256 --runs 1 --seconds "$SECONDS_PER" --json \
  > "$OUT/bench-cpu-b32.json" 2> "$OUT/bench-cpu-b32.log" || echo "bench-device cpu failed"

if [ "${SKIP_PYTHON:-0}" != "1" ]; then
  echo "== 3. sentence-transformers on the same folder"
  for dtype in fp32 fp16; do
    "$PYTHON" "$HERE/bench_st.py" --model "$MODEL" --dtype "$dtype" --batch-size 256 --seconds "$SECONDS_PER" \
      > "$OUT/st-$dtype.json" 2> "$OUT/st-$dtype.log" || { echo "bench_st.py $dtype failed:"; tail -5 "$OUT/st-$dtype.log"; }
  done
fi

echo "== summary"
"$PYTHON" - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
def load(p):
    try: return json.load(open(p))
    except Exception: return None
c = load(os.path.join(out, "compare.json"))
if c: print(f"vectors device vs cpu (fp32): equal={c['equal']} texts={c['texts']} max_abs_diff={c['max_abs_diff']:.2e} index_set_mismatches={c['index_set_mismatches']}")
h = load(os.path.join(out, "compare-fp16.json"))
if h: print(f"vectors device fp16 vs cpu fp32 (approximate by design): texts={h['texts']} min_cosine={h['min_cosine']:.6f} texts_with_other_non_zero_sets={h['index_set_mismatches']} max_abs_diff={h['max_abs_diff']:.2e} (texts with the same sets)")
for p in sorted(glob.glob(os.path.join(out, "bench-*.json"))):
    r = load(p)
    if not r: continue
    docs = ", ".join(f"{d['tokens']} tok x{d['batch']}: {d['docs_per_second']:.0f} docs/s" for d in r["documents"])
    print(f"splade {r['device']} {r.get('precision', 'fp32')}: {docs}; query p50 {r['query_latency_p50_ms']:.2f} ms p99 {r['query_latency_p99_ms']:.2f} ms; device peak {r['device_peak_bytes']/2**20:.0f} MiB")
for p in sorted(glob.glob(os.path.join(out, "st-*.json"))):
    r = load(p)
    if not r: continue
    docs = ", ".join(f"{d['tokens']} tok x{d['batch_size']}: {d['docs_per_second']:.0f} docs/s" for d in r["documents"])
    print(f"sentence-transformers {r['dtype']}: {docs}; query p50 {r['query_latency_p50_ms']:.2f} ms p99 {r['query_latency_p99_ms']:.2f} ms; torch max allocated {r['max_memory_allocated_bytes']/2**20:.0f} MiB")
PY
[ "$same" = "True" ] || exit 1
