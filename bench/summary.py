"""The one table of bench/all, read from the outputs of the benchmarks it ran (a folder of logs)."""
import re
import sys
from pathlib import Path

logs, courses = Path(sys.argv[1]), int(sys.argv[2])
rows = []  # (what, measured, target, met)


def http_rows(text):
    table = {}
    for line in text.splitlines():
        m = re.match(r"^(SQLite|PostgreSQL x2|PostgreSQL)\s+(GET /health|GET /a/TOKEN/s/1 \(page\)|POST /a/TOKEN/submit)\s+"
                     r"([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)%\s+([\d,]+)\s+(\d+)", line)
        if m:
            table[(m[1], m[2])] = (float(m[3].replace(",", "")), float(m[5]), int(m[6]), int(m[8]))
    for engine in ("SQLite", "PostgreSQL", "PostgreSQL x2"):
        for route, share, p99 in (("GET /a/TOKEN/s/1 (page)", 25, 25), ("POST /a/TOKEN/submit", 10, 50)):
            if (engine, route) not in table:
                continue
            rps, latency, ratio, errors = table[(engine, route)]
            rows.append((f"{engine}: {route} vs /health", f"{ratio}% ({rps:,.0f}/s), p99 {latency:.1f} ms, {errors} errors",
                         f">= {share}%, p99 < {p99} ms, 0 errors", ratio >= share and latency < p99 and errors == 0))


def crash_rows(text):
    for engine, block in re.findall(r"== (\w+)\n(.*?)(?=\n== |\Z)", text, re.S):
        acked = re.search(r"after the last restart: ([\d,]+) acknowledged.*?lost (\d+); stored twice (\d+); partial (\d+)", block)
        kills = re.search(r"kills: (\d+) SIGKILLs", block)
        if acked and kills:
            lost, twice, partial = int(acked[2]), int(acked[3]), int(acked[4])
            rows.append((f"{engine}: crash under load ({kills[1]} SIGKILLs in 60 s)",
                         f"{acked[1]} acknowledged; lost {lost}, twice {twice}, partial {partial}",
                         "lost 0, twice 0", "OK: every acknowledged" in block and lost == twice == partial == 0))


def score_rows(text):
    identical = "byte-identical to --reference" in text
    for line in text.splitlines():
        m = re.match(r"^(rand36|eq5d-5l|eq5d-3l|kvarus-followup)\s+(\d+)\s+[\d.]+\s+([\d,]+)\s+[\d.]+\s+([\d,]+)\s+([\d.]+)x", line)
        if m:
            target = m[1] in ("rand36", "eq5d-5l")
            rows.append((f"score --batch {m[1]} vs Python", f"{m[5]}x ({m[3]} vs {m[4]} responses/s)",
                         ">= 20x, byte-identical" if target else "(no target)",
                         (float(m[5]) >= 20 and identical) if target else None))


def scheduler_rows(text):
    for line in text.splitlines():
        m = re.match(r"^(SQLite|PostgreSQL)\s+(\S+)\s+([\d.]+) s\s+(.*)$", line)
        if m:
            seconds = float(m[3])
            work = re.sub(r", cancelled \d+ stale reminder\(s\)", "", m[4])
            rows.append((f"{m[1]}: tick {m[2]} over {courses:,} courses", f"{seconds:.2f} s ({work})", "<= 5 s", seconds <= 5))


for name, parse in (("http", http_rows), ("crash", crash_rows), ("score", score_rows), ("scheduler", scheduler_rows)):
    path = logs / f"{name}.log"
    if path.exists():
        parse(path.read_text())
machine = next((l for l in (logs / "http.log").read_text().splitlines() if l.startswith("machine:")), "") if (logs / "http.log").exists() else ""
print(f"\nbench/all summary — {machine}")
width = max(len(r[0]) for r in rows) if rows else 10
print(f"{'measure':<{width}}  {'measured':<62} {'target':<30} met")
for what, measured, target, met in rows:
    print(f"{what:<{width}}  {measured:<62} {target:<30} {'-' if met is None else 'yes' if met else 'NO'}")
