#!/usr/bin/env python3
"""Mixed traffic against a running `splade serve` for a set time (loopback only); see soak.sh.

  soak.py URL SERVER_PID DURATION_S CONCURRENCY WINDOW_S

Traffic: /embed_sparse (queries and documents), /search, /tokenize, and malformed requests (not JSON,
wrong field types, too many inputs, an empty batch). Prints a Markdown report: requests and status codes
by kind, unexpected answers (a valid request not answered 200, any 5xx, a socket error), p50/p99 of the
valid requests per window, and the server's resident memory per window. Exit 1 on any unexpected answer.
"""
import http.client
import json
import random
import sys
import threading
import time
from collections import Counter, defaultdict

url, pid, duration, concurrency, window = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
host, port = url.replace("http://", "").rstrip("/").split(":")
port = int(port)

WORDS = ("search engine sparse vector neural retrieval index query document passage model token weight "
         "learned expansion term ranking relevance benchmark latency throughput memory disk commit merge").split()


def text(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def request(rng):
    """One request: (kind, path, body bytes, expected status or None for any 4xx)."""
    r = rng.random()
    if r < 0.25:
        return "embed_query", "/embed_sparse", json.dumps({"inputs": text(rng, 6), "role": "query"}), 200
    if r < 0.45:
        return "embed_docs", "/embed_sparse", json.dumps({"inputs": [text(rng, 60) for _ in range(rng.randint(1, 4))]}), 200
    if r < 0.65:
        return "search", "/search", json.dumps({"query": text(rng, 5), "top_k": 10}), 200
    if r < 0.85:
        return "tokenize", "/tokenize", json.dumps({"inputs": text(rng, 20)}), 200
    bad = rng.choice([
        ("/embed_sparse", "{not json"),
        ("/embed_sparse", json.dumps({"inputs": 42})),
        ("/embed_sparse", json.dumps({"inputs": ["x"] * 1000})),
        ("/embed_sparse", json.dumps({"inputs": []})),
        ("/tokenize", "\xff\xfe"),
        ("/search", json.dumps({"query": "x", "top_k": -1})),
    ])
    return "malformed", bad[0], bad[1], None


lock = threading.Lock()
records = []          # (t, kind, status, seconds)
stop_at = time.monotonic() + duration
start = time.monotonic()


def worker(seed):
    rng = random.Random(seed)
    conn = None
    while time.monotonic() < stop_at:
        kind, path, body, expected = request(rng)
        t0 = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=30)
            conn.request("POST", path, body=body.encode("utf-8", "surrogateescape"), headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # socket errors count as unexpected
            status = "socket:" + type(e).__name__
            if conn is not None:
                conn.close()
            conn = None
        with lock:
            records.append((t0 - start, kind, status, time.monotonic() - t0, expected))


def rss_kib():
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


memory = [(0.0, rss_kib())]


def sampler():
    while time.monotonic() < stop_at:
        time.sleep(min(window, max(0.0, stop_at - time.monotonic())))
        memory.append((time.monotonic() - start, rss_kib()))


threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
threads.append(threading.Thread(target=sampler))
for t in threads:
    t.start()
for t in threads:
    t.join()


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def is_unexpected(status, expected):
    if isinstance(status, str):
        return True
    if status >= 500:
        return True
    return status != expected if expected is not None else not (400 <= status < 500)


by_kind = defaultdict(Counter)
unexpected = Counter()
for t, kind, status, secs, expected in records:
    by_kind[kind][status] += 1
    if is_unexpected(status, expected):
        unexpected[(kind, status)] += 1

print(f"## Soak: {duration:.0f} s, {concurrency} clients, {len(records)} requests ({len(records) / duration:.1f}/s)\n")
print("| kind | requests | status codes |")
print("|---|---:|---|")
for kind in sorted(by_kind):
    c = by_kind[kind]
    print(f"| {kind} | {sum(c.values())} | {', '.join(f'{k}: {v}' for k, v in sorted(c.items(), key=lambda kv: str(kv[0])))} |")
print()
print(f"Unexpected answers (a valid request not 200, any 5xx, socket errors): {sum(unexpected.values())}"
      + ("" if not unexpected else " — " + ", ".join(f"{k[0]} {k[1]}: {v}" for k, v in unexpected.items())))
print()
print("| window | valid requests | p50 ms | p99 ms | server RSS MiB at end |")
print("|---|---:|---:|---:|---:|")
n_windows = max(1, int(round(duration / window)))
for w in range(n_windows):
    lo, hi = w * window, (w + 1) * window
    lat = [s * 1000 for t, k, st, s, e in records if lo <= t < hi and k != "malformed" and st == 200]
    mem = [m for (mt, m) in memory if mt <= hi + 0.5 and m is not None]
    print(f"| {lo:.0f}-{min(hi, duration):.0f} s | {len(lat)} | {pct(lat, 50):.1f} | {pct(lat, 99):.1f} | {(mem[-1] / 1024 if mem else float('nan')):.0f} |")
first = next((m for _, m in memory if m is not None), None)
last = next((m for _, m in reversed(memory) if m is not None), None)
if first and last:
    print(f"\nServer resident memory: {first / 1024:.0f} MiB at the start, {last / 1024:.0f} MiB at the end.")
sys.exit(1 if unexpected else 0)
