"""Writes N random, valid responses per instrument as NDJSON (one file per instrument) for bench/score.

A share of items is left out (RAND-36) or the VAS omitted (EQ-5D) so the missing-data paths are exercised.
"""
import json
import random
import sys
from pathlib import Path

RAND36_K = {**{i: 5 for i in (1, 2, 20, 22, 32, 33, 34, 35, 36)}, **{i: 3 for i in range(3, 13)},
            **{i: 2 for i in range(13, 20)}, **{i: 6 for i in (21, 23, 24, 25, 26, 27, 28, 29, 30, 31)}}


def rand36(rng):
    return {str(i): rng.randint(1, k) for i, k in RAND36_K.items() if rng.random() > 0.03}


def eq5d(rng, top):
    answer = {d: rng.randint(1, top) for d in ("MO", "SC", "UA", "PD", "AD")}
    if rng.random() > 0.1:
        answer["VAS"] = rng.randint(0, 100)
    return answer


def kvarus(rng):
    return {"alcoholDays": rng.randint(0, 30), "drugDays": rng.randint(0, 30), "overdose": rng.randint(1, 2),
            "housing": rng.randint(1, 6), "activity": rng.randint(1, 7), "helpGP": rng.randint(1, 2),
            "helpNav": rng.randint(1, 2), "qualityOfLife": rng.randint(0, 10),
            "satisfaction": rng.randint(1, 5), "benefit": rng.randint(1, 5)}


def main():
    n, out = int(sys.argv[1]), Path(sys.argv[2])
    rng = random.Random(20261122)
    makers = {"rand36": rand36, "eq5d-5l": lambda r: eq5d(r, 5), "eq5d-3l": lambda r: eq5d(r, 3),
              "kvarus-followup": kvarus}
    for name, make in makers.items():
        with open(out / f"{name}.ndjson", "w") as f:
            f.writelines(json.dumps(make(rng), separators=(",", ":")) + "\n" for _ in range(n))


if __name__ == "__main__":
    main()
