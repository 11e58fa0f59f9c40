#!/usr/bin/env bash
# Builds a folder to carry to a GPU machine that has no .NET SDK: the `splade` command published self-contained for
# linux-x64 (the .NET runtime inside; ILGPU is managed code, the CUDA driver and cuBLAS are the machine's), with
# run-device.sh and bench_st.py beside it, and a .tar.gz of the folder.
#
#   scripts/gpu/build-bundle.sh [OUT]        (default OUT: artifacts/gpu-bundle)
#
# On the GPU machine: tar xzf gpu-bundle.tar.gz && gpu-bundle/run-device.sh [MODEL_DIR] [RESULTS_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="${1:-$ROOT/artifacts/gpu-bundle}"
rm -rf "$OUT"
mkdir -p "$OUT"
dotnet publish "$ROOT/src/Splade.Cli/Splade.Cli.csproj" -c Release -r linux-x64 --self-contained true \
  -p:PublishSingleFile=false -p:PublishTrimmed=false -o "$OUT/splade" -nologo -v quiet
# The apphost is named after the assembly (Splade.Cli); a copy named splade runs the same CLI.
cp "$OUT/splade/Splade.Cli" "$OUT/splade/splade"
cp "$ROOT/scripts/gpu/run-device.sh" "$ROOT/scripts/gpu/bench_st.py" "$ROOT/scripts/gpu/compare_vectors.py" "$OUT/"
chmod +x "$OUT/run-device.sh" "$OUT/splade/splade" 2>/dev/null || true
git -C "$ROOT" rev-parse HEAD > "$OUT/COMMIT" 2>/dev/null || echo unknown > "$OUT/COMMIT"
tar -czf "$OUT.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")"
echo "bundle: $OUT ($(du -sh "$OUT" | cut -f1)), archive: $OUT.tar.gz ($(du -sh "$OUT.tar.gz" | cut -f1))"
"$OUT/splade/splade" --version >/dev/null && echo "splade runs: $("$OUT/splade/splade" --version)"
