#!/usr/bin/env python3
"""sentence-transformers' SparseEncoder on a SPLADE checkpoint folder, on the GPU: encode_document documents/s at
80 and 256 tokens (texts built to tokenize to exactly that many tokens, max_seq_length set to it), batch-1
encode_query latency (p50/p99), and torch.cuda.max_memory_allocated. Prints one JSON object on stdout.

    python3 bench_st.py --model FOLDER [--dtype fp32|fp16] [--batch-size 256] [--lengths 80,256] [--seconds 3] [--runs 3]

Needs torch with CUDA and sentence-transformers >= 5 (SparseEncoder); works offline on a local folder.
"""
import argparse
import json
import math
import random
import statistics
import sys
import time

import torch
from sentence_transformers import SparseEncoder


def texts_of_length(tokenizer, count, length, seed):
    """`count` texts of random whole-word vocabulary entries that tokenize to at least `length` tokens with
    [CLS] and [SEP] (the model truncates them to exactly `length`)."""
    rng = random.Random(seed)
    words = [w for w, i in tokenizer.get_vocab().items() if w.isalpha() and w.islower() and len(w) > 2 and not w.startswith("##")]
    out = []
    for _ in range(count):
        ids = [rng.choice(words) for _ in range(length)]
        text = " ".join(ids)
        while len(tokenizer(text)["input_ids"]) < length:
            text += " " + rng.choice(words)
        out.append(text)
    return out


def sync():
    torch.cuda.synchronize()


def throughput(model, texts, batch_size, seconds):
    model.encode_document(texts[:batch_size], batch_size=batch_size)  # warm-up
    sync()
    done, start = 0, time.perf_counter()
    while done < 2 * len(texts) or time.perf_counter() - start < seconds:
        model.encode_document(texts, batch_size=batch_size, convert_to_sparse_tensor=True)
        sync()
        done += len(texts)
    return done / (time.perf_counter() - start)


def latencies(model, queries, seconds):
    for q in queries[:10]:
        model.encode_query(q)
    sync()
    times, start = [], time.perf_counter()
    k = 0
    while len(times) < 50 or time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        model.encode_query(queries[k % len(queries)])
        sync()
        times.append((time.perf_counter() - t0) * 1000)
        k += 1
    times.sort()
    def quantile(p):  # nearest rank
        return times[min(len(times) - 1, max(0, math.ceil(p * len(times)) - 1))]
    return quantile(0.5), quantile(0.99)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lengths", default="80,256")
    ap.add_argument("--seconds", type=float, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--documents", type=int, default=1024, help="distinct documents per length")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("CUDA is not available to torch", file=sys.stderr)
        sys.exit(2)
    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    model = SparseEncoder(args.model, device="cuda", model_kwargs={"torch_dtype": dtype})
    tokenizer = model.tokenizer
    limit = model.max_seq_length
    docs = []
    for length in [int(x) for x in args.lengths.split(",")]:
        length = min(length, limit if limit else length)
        texts = texts_of_length(tokenizer, args.documents, length, seed=17 + length)
        model.max_seq_length = length
        torch.cuda.reset_peak_memory_stats()
        runs = [throughput(model, texts, args.batch_size, args.seconds) for _ in range(args.runs)]
        docs.append({
            "tokens": length,
            "batch_size": args.batch_size,
            "docs_per_second": statistics.median(runs),
            "docs_per_second_min": min(runs),
            "docs_per_second_max": max(runs),
            "max_memory_allocated_bytes": torch.cuda.max_memory_allocated(),
        })
    model.max_seq_length = limit
    queries = texts_of_length(tokenizer, 64, 8, seed=5)  # about 10 tokens with [CLS] and [SEP]
    queries = [" ".join(q.split()[:8]) for q in queries]
    torch.cuda.reset_peak_memory_stats()
    lat = [latencies(model, queries, args.seconds) for _ in range(args.runs)]
    result = {
        "engine": "sentence-transformers SparseEncoder",
        "model": args.model,
        "dtype": args.dtype,
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "runs": args.runs,
        "seconds_per_measurement": args.seconds,
        "documents": docs,
        "query_latency_p50_ms": statistics.median(p for p, _ in lat),
        "query_latency_p99_ms": statistics.median(p for _, p in lat),
        "max_memory_allocated_bytes": max([d["max_memory_allocated_bytes"] for d in docs] + [torch.cuda.max_memory_allocated()]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
