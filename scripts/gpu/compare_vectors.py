#!/usr/bin/env python3
"""Compares two `splade encode` outputs line by line: identical non-zero index sets, the largest absolute
difference of the values (over lines whose sets match) and the smallest cosine. Prints one JSON object; "equal" is true when every set matches and the diff <= 1e-4."""
import json
import sys


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


a, b = read(sys.argv[1]), read(sys.argv[2])
tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
def cosine(x, y):
    dx = dict(zip(x["indices"], x["values"]))
    dot = sum(v * dx.get(i, 0.0) for i, v in zip(y["indices"], y["values"]))
    nx = sum(v * v for v in x["values"]) ** 0.5
    ny = sum(v * v for v in y["values"]) ** 0.5
    return 1.0 if nx == 0 and ny == 0 else (dot / (nx * ny) if nx and ny else 0.0)


mismatches, max_diff, worst, min_cosine = 0, 0.0, None, 1.0
for x, y in zip(a, b):
    min_cosine = min(min_cosine, cosine(x, y))
    if x["indices"] != y["indices"]:
        mismatches += 1
        continue
    for u, v in zip(x["values"], y["values"]):
        d = abs(u - v)
        if d > max_diff:
            max_diff, worst = d, x.get("id")
result = {
    "texts": len(a),
    "equal": len(a) == len(b) and mismatches == 0 and max_diff <= tolerance,
    "index_set_mismatches": mismatches + abs(len(a) - len(b)),
    "max_abs_diff": max_diff,
    "worst_id": worst,
    "min_cosine": min_cosine,
    "tolerance": tolerance,
}
print(json.dumps(result))
