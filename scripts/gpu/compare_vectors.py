#!/usr/bin/env python3
"""Compares two `splade encode` outputs line by line: identical non-zero index sets and the largest absolute
difference of the values. Prints one JSON object; "equal" is true when every set matches and the diff <= 1e-4."""
import json
import sys


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


a, b = read(sys.argv[1]), read(sys.argv[2])
tolerance = float(sys.argv[3]) if len(sys.argv) > 3 else 1e-4
mismatches, max_diff, worst = 0, 0.0, None
for x, y in zip(a, b):
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
    "tolerance": tolerance,
}
print(json.dumps(result))
