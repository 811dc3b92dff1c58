#!/usr/bin/env python3
"""EQ-5D index test vectors worked out by hand, independently of Svar's Swift code.

Three independent routes must agree before a vector is trusted:

1. HAND: the coefficient tables below, typed from the published coefficients (decimal strings as printed in
   the sources that docs/scoring.md cites), scored with hand-written code per model family (plain main
   effects, Dutch constant, Dolan-type constant + N3, Canada's level-1 / level-4-5 terms, the US 3L D1 model).
2. JSON: the value-set files under instruments/eq5d-5l/valuesets and instruments/eq5d-3l/valuesets, scored with a
   tiny evaluator that implements only the generic model of instruments/README.md ("any", "dimension", "count").
3. PUBLISHED: anchors from the papers and from the peer's (fragla/eq5d) tests.

Both evaluators use exact decimal arithmetic (decimal.Decimal); nothing goes through binary floating point.
HAND and JSON are compared on every state (3125 per 5L set, 243 per 3L set), not just on the vectors.
The HAND tables are also checked cell by cell against the coefficient tables in docs/scoring.md (between the
markers <!-- eq5d-coefficients:begin --> and <!-- eq5d-coefficients:end -->), so the documentation, the data
and this model cannot drift apart.

Usage:
    python3 e2e/eq5d_hand_vectors.py            # print the table, run all checks, compare with the vector file
    python3 e2e/eq5d_hand_vectors.py --write    # (re)write Tests/SvarInstrumentsTests/Vectors/eq5d.json
Exit status 0 = every check passed.
"""
from __future__ import annotations

import itertools
import json
import os
import re
import sys
from decimal import Decimal, ROUND_HALF_UP, getcontext

getcontext().prec = 50  # far more than needed; sums of <= 12 terms with <= 7 decimals are exact

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
VECTORS = os.path.join(REPO, "Tests", "SvarInstrumentsTests", "Vectors", "eq5d.json")
DIMS = ("MO", "SC", "UA", "PD", "AD")

# ---------------------------------------------------------------------------------------------------------------
# 1. HAND tables (published coefficients). Per dimension: coefficients for levels 2..5 (5L) or 2..3 (3L), space separated,
#    "." = empty cell (no term). Canada lists levels 1..5. Extra terms are spelled out per set.
# ---------------------------------------------------------------------------------------------------------------
HAND = {
    # ---- EQ-5D-5L ----
    "no-2024": {"instrument": "eq5d-5l", "start": "1",
                "MO": "-0.03116 -0.064985 -0.158875 -0.205",
                "SC": "-0.031312 -0.065302 -0.15965 -0.206",
                "UA": "-0.027208 -0.056743 -0.138725 -0.179",
                "PD": "-0.059432 -0.123947 -0.303025 -0.391",
                "AD": "-0.071744 -0.149624 -0.3658 -0.472"},
    "england-2018": {"instrument": "eq5d-5l", "start": "1",
                     "MO": "-0.058 -0.076 -0.207 -0.274",
                     "SC": "-0.05 -0.08 -0.164 -0.203",
                     "UA": "-0.05 -0.063 -0.162 -0.184",
                     "PD": "-0.063 -0.084 -0.276 -0.335",
                     "AD": "-0.078 -0.104 -0.285 -0.289"},
    "uk-2026": {"instrument": "eq5d-5l", "start": "1",
                "MO": "-0.032 -0.058 -0.179 -0.279",
                "SC": "-0.038 -0.06 -0.162 -0.206",
                "UA": "-0.049 -0.086 -0.184 -0.212",
                "PD": "-0.056 -0.066 -0.371 -0.479",
                "AD": "-0.041 -0.126 -0.313 -0.391"},
    "dk-2021": {"instrument": "eq5d-5l", "start": "1",
                "MO": "-0.041 -0.054 -0.157 -0.22",
                "SC": "-0.035 -0.05 -0.144 -0.209",
                "UA": "-0.033 -0.04 -0.139 -0.174",
                "PD": "-0.048 -0.094 -0.381 -0.537",
                "AD": "-0.072 -0.191 -0.43 -0.618"},
    "se-2022": {"instrument": "eq5d-5l", "start": "1",
                "MO": "-0.022 -0.026 -0.087 -0.132",
                "SC": "-0.019 -0.056 -0.113 -0.159",
                "UA": "-0.022 -0.048 -0.131 -0.187",
                "PD": "-0.01 -0.047 -0.319 -0.442",
                "AD": "-0.031 -0.122 -0.277 -0.394"},
    "de-2018": {"instrument": "eq5d-5l", "start": "1",
                "MO": "-0.026 -0.042 -0.139 -0.224",
                "SC": "-0.05 -0.056 -0.169 -0.26",
                "UA": "-0.036 -0.049 -0.129 -0.209",
                "PD": "-0.057 -0.109 -0.404 -0.612",
                "AD": "-0.03 -0.082 -0.244 -0.356"},  # AD4: see the decision in de-2018.json
    "nl-2016": {"instrument": "eq5d-5l", "start": "1", "constant": "-0.047",
                "MO": "-0.035 -0.057 -0.166 -0.203",
                "SC": "-0.038 -0.061 -0.168 -0.168",
                "UA": "-0.039 -0.087 -0.192 -0.192",
                "PD": "-0.066 -0.092 -0.36 -0.415",
                "AD": "-0.07 -0.145 -0.356 -0.421"},
    "us-2019": {"instrument": "eq5d-5l", "start": "1",
                "MO": "-0.096 -0.122 -0.237 -0.322",
                "SC": "-0.089 -0.107 -0.22 -0.261",
                "UA": "-0.068 -0.101 -0.255 -0.255",
                "PD": "-0.06 -0.098 -0.318 -0.414",
                "AD": "-0.057 -0.123 -0.299 -0.321"},
    "ca-2016": {"instrument": "eq5d-5l", "start": "1.1351", "level1": True,
                "MO": "-0.0389 -0.0778 -0.1167 -0.1556 -0.1945",
                "SC": "-0.0458 -0.0916 -0.1374 -0.1832 -0.229",
                "UA": "-0.0195 -0.039 -0.0585 -0.078 -0.0975",
                "PD": "-0.0444 -0.0888 -0.1332 -0.1776 -0.222",
                "AD": "-0.0376 -0.0752 -0.1128 -0.1504 -0.188",
                "d45": {"MO": "-0.051", "SC": "-0.0584", "UA": "-0.1103", "PD": "-0.1409", "AD": "-0.1277"},
                "num45sq": "0.0085"},
    # ---- EQ-5D-3L ----
    "uk-1997": {"instrument": "eq5d-3l", "start": "1", "constant": "-0.081", "n3": "-0.269",
                "MO": "-0.069 -0.314", "SC": "-0.104 -0.214", "UA": "-0.036 -0.094",
                "PD": "-0.123 -0.386", "AD": "-0.071 -0.236"},
    "dk-2009": {"instrument": "eq5d-3l", "start": "1", "constant": "-0.114",
                "MO": "-0.053 -0.411", "SC": "-0.063 -0.192", "UA": "-0.048 -0.144",
                "PD": "-0.062 -0.396", "AD": "-0.068 -0.367"},
    "de-2005": {"instrument": "eq5d-3l", "start": "1", "constant": "-0.001", "n3": "-0.323",
                "MO": "-0.099 -0.327", "SC": "-0.087 -0.174", "UA": ". .",
                "PD": "-0.112 -0.315", "AD": ". -0.065"},
    "nl-2006": {"instrument": "eq5d-3l", "start": "1", "constant": "-0.071", "n3": "-0.234",
                "MO": "-0.036 -0.161", "SC": "-0.082 -0.152", "UA": "-0.032 -0.057",
                "PD": "-0.086 -0.329", "AD": "-0.124 -0.325"},
    "us-2005": {"instrument": "eq5d-3l", "start": "1",
                "MO": "-0.146016 -0.557685", "SC": "-0.1753425 -0.4711896", "UA": "-0.1397295 -0.3742594",
                "PD": "-0.1728907 -0.5371011", "AD": "-0.156223 -0.4501876",
                "d1": {"D1": "0.1395949", "I2square": "-0.0106868", "I3": "0.1215579", "I3square": "0.0147963"}},
}

# States per set for the vector file (each set gets its common list plus its extras).
COMMON_5L = ["11111", "55555", "12345", "21111", "54321", "33333", "11112"]
COMMON_3L = ["11111", "33333", "12321", "32211", "11112", "11113", "22222"]
EXTRA = {
    "england-2018": ["23245"],
    "dk-2021": ["13224"],
    "de-2018": ["11114", "54444", "52244"],          # states that pin the disputed AD4
    "nl-2016": ["43333", "55511", "44444"],
    "us-2019": ["21354"],
    "ca-2016": ["23145", "11155", "44444"],          # n45 = 2 and 5 exercise Num45sq
    "uk-1997": ["33221", "11221"],
    "dk-2009": ["32123", "12121"],
    "de-2005": ["32323", "11311", "12213"],          # UA has no terms at all
    "nl-2006": ["21211", "21313"],
    "us-2005": ["33113", "11121", "22112", "21111"],  # D1 / I2 / I3 / I3 squared
}

# Published anchors: (set, state, expected, how) with how = "exact" (unrounded sum) or "3dp" (rounded).
ANCHORS = [
    # from the papers (abstracts and worked examples)
    ("no-2024", "55555", "-0.453", "exact", "Garratt 2024: range -0.453..1"),
    ("dk-2021", "55555", "-0.758", "exact", "Jensen 2021; identical in EuroQol's eq5dsuite"),
    ("uk-1997", "12321", "0.329", "exact", "Dolan 1997 worked example"),
    ("us-2005", "33333", "-0.109", "3dp", "Shaw 2005: D1 model range -0.109..1"),
    ("ca-2016", "11111", "0.9489", "exact", "Xie 2016: Canada full health"),
    ("nl-2016", "11111", "1", "exact", "Versteegh 2016: no constant for 11111"),
    # peer tests (fragla/eq5d tests/testthat/test-eq5d5l.R and test-eq5d3l.R), 3 dp
    ("england-2018", "23245", "0.247", "3dp", "peer test"),
    ("england-2018", "11112", "0.922", "3dp", "peer test"),
    ("england-2018", "11121", "0.937", "3dp", "peer test"),
    ("england-2018", "11211", "0.950", "3dp", "peer test"),
    ("england-2018", "12111", "0.950", "3dp", "peer test"),
    ("england-2018", "21111", "0.942", "3dp", "peer test"),
    ("england-2018", "55555", "-0.285", "3dp", "peer test"),
    ("dk-2021", "13224", "0.439", "3dp", "peer test"),
    ("de-2018", "21111", "0.974", "3dp", "peer test"),
    ("de-2018", "12111", "0.950", "3dp", "peer test"),
    ("de-2018", "11211", "0.964", "3dp", "peer test"),
    ("de-2018", "11121", "0.943", "3dp", "peer test"),
    ("de-2018", "11112", "0.970", "3dp", "peer test"),
    ("de-2018", "12345", "0.141", "3dp", "peer test"),
    ("de-2018", "55555", "-0.661", "3dp", "peer test; paper abstract range -0.661..1"),
    ("nl-2016", "21111", "0.918", "3dp", "peer test"),
    ("nl-2016", "55511", "0.390", "3dp", "peer test"),
    ("nl-2016", "44444", "-0.289", "3dp", "peer test"),
    ("nl-2016", "55555", "-0.446", "3dp", "peer test"),
    ("nl-2016", "43333", "0.402", "3dp", "published coefficients (eq5dsuite: 0.4032918)"),
    ("us-2019", "21111", "0.904", "3dp", "peer test"),
    ("us-2019", "12111", "0.911", "3dp", "peer test"),
    ("us-2019", "11211", "0.932", "3dp", "peer test"),
    ("us-2019", "11121", "0.940", "3dp", "peer test"),
    ("us-2019", "11112", "0.943", "3dp", "peer test"),
    ("us-2019", "21354", "0.090", "3dp", "peer test"),
    ("us-2019", "55555", "-0.573", "3dp", "peer test"),
    ("ca-2016", "23145", "0.275", "3dp", "peer test"),
    ("ca-2016", "11111", "0.949", "3dp", "peer test"),
    ("ca-2016", "55555", "-0.148", "3dp", "peer test"),
    ("uk-1997", "11221", "0.760", "3dp", "peer test"),
    ("uk-1997", "33221", "-0.037", "3dp", "peer test"),
    ("uk-1997", "33333", "-0.594", "3dp", "peer test"),
    ("dk-2009", "32123", "-0.017", "3dp", "peer test (older version; newer allows 0.0011)"),
    ("dk-2009", "12111", "0.823", "3dp", "peer test"),
    ("dk-2009", "12121", "0.761", "3dp", "peer test"),
    ("dk-2009", "32323", "-0.161", "3dp", "peer test"),
    ("dk-2009", "33333", "-0.624", "3dp", "peer test"),
    ("de-2005", "12211", "0.912", "3dp", "peer test"),
    ("de-2005", "12213", "0.524", "3dp", "peer test"),
    ("de-2005", "32323", "0.085", "3dp", "EuroQol eq5dsuite DE_TTO (peer test says 0.083; see de-2005.json)"),
    ("de-2005", "33333", "-0.205", "3dp", "EuroQol eq5dsuite DE_TTO (peer test says -0.207; see de-2005.json)"),
    ("de-2005", "11311", "0.676", "3dp", "EuroQol eq5dsuite DE_TTO"),
    ("nl-2006", "21211", "0.861", "3dp", "peer test"),
    ("nl-2006", "21231", "0.298", "3dp", "peer test"),
    ("nl-2006", "21333", "-0.052", "3dp", "peer test"),
    ("nl-2006", "33333", "-0.329", "3dp", "peer test"),
    ("us-2005", "11121", "0.827", "3dp", "peer test"),
    ("us-2005", "22112", "0.759", "3dp", "peer test"),
    ("us-2005", "33113", "0.102", "3dp", "peer test"),
    ("us-2005", "33333", "-0.109", "3dp", "peer test"),
]


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------
def plain(d: Decimal) -> str:
    """Exact decimal as a plain string, trailing zeros trimmed, never '-0' or exponent notation."""
    if d == 0:
        return "0"
    s = format(d.normalize(), "f")
    return s


def rounded3(d: Decimal) -> str:
    """Round half away from zero to 3 decimals (ROUND_HALF_UP in Python's decimal is 'away from zero')."""
    r = d.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    if r == 0:
        r = Decimal("0.000")
    return format(r, "f")


def max_level(instrument: str) -> int:
    return 5 if instrument == "eq5d-5l" else 3


def all_states(instrument: str):
    n = max_level(instrument)
    for t in itertools.product(range(1, n + 1), repeat=5):
        yield "".join(map(str, t))


# ---------------------------------------------------------------------------------------------------------------
# HAND evaluator (model families written out explicitly)
# ---------------------------------------------------------------------------------------------------------------
def hand_coef(vs: dict, dim: str, level: int) -> str | None:
    cells = vs[dim].split()
    if vs.get("level1"):
        cell = cells[level - 1]
    else:
        if level == 1:
            return None
        cell = cells[level - 2]
    return None if cell == "." else cell


def hand_terms(set_id: str, state: str):
    """List of (coefficient string, multiplier) after the start value, in a fixed readable order."""
    vs = HAND[set_id]
    levels = [int(c) for c in state]
    terms = []
    # Dolan-type constant / Dutch 5L constant: once if any dimension is above level 1
    if "constant" in vs and any(l > 1 for l in levels):
        terms.append((vs["constant"], 1))
    # N3: once if any dimension is at level 3
    if "n3" in vs and any(l == 3 for l in levels):
        terms.append((vs["n3"], 1))
    for dim, level in zip(DIMS, levels):
        c = hand_coef(vs, dim, level)
        if c is not None:
            terms.append((c, 1))
    if "d45" in vs:  # Canada
        for dim, level in zip(DIMS, levels):
            if level >= 4:
                terms.append((vs["d45"][dim], 1))
        n45 = sum(1 for l in levels if l >= 4)
        if n45 > 1:
            terms.append((vs["num45sq"], (n45 - 1) ** 2))
    if "d1" in vs:  # USA 3L D1 model
        d1 = max(0, sum(1 for l in levels if l > 1) - 1)
        i2 = max(0, sum(1 for l in levels if l == 2) - 1)
        i3 = max(0, sum(1 for l in levels if l == 3) - 1)
        for name, mult in (("D1", d1), ("I2square", i2 * i2), ("I3", i3), ("I3square", i3 * i3)):
            if mult:
                terms.append((vs["d1"][name], mult))
    return terms


def hand_index(set_id: str, state: str):
    vs = HAND[set_id]
    terms = hand_terms(set_id, state)
    total = Decimal(vs["start"]) + sum((Decimal(c) * m for c, m in terms), Decimal(0))
    working = vs["start"]
    for c, m in terms:
        sign = "-" if c.startswith("-") else "+"
        mag = c.lstrip("-+")
        working += f" {sign} {mag}" if m == 1 else f" {sign} {m}*{mag}"
    return total, working


# ---------------------------------------------------------------------------------------------------------------
# JSON evaluator: the generic model of instruments/README.md, nothing set-specific
# ---------------------------------------------------------------------------------------------------------------
COEF_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")


def instruments_dir():
    """instruments/ at the repository root, or where the package keeps it (Sources/SvarAssets/instruments)."""
    for c in (os.environ.get("SVAR_INSTRUMENTS_DIR"), os.path.join(REPO, "instruments"),
              os.path.join(REPO, "Sources", "SvarAssets", "instruments")):
        if c and os.path.isdir(os.path.join(c, "eq5d-5l", "valuesets")):
            return c
    raise SystemExit("cannot find instruments/eq5d-5l/valuesets (set SVAR_INSTRUMENTS_DIR)")


def load_valuesets():
    out, problems = {}, []
    root = instruments_dir()
    for inst in ("eq5d-5l", "eq5d-3l"):
        folder = os.path.join(root, inst, "valuesets")
        defaults = []
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                vs = json.load(f)
            where = f"{inst}/valuesets/{name}"
            for key in ("id", "instrument", "name", "citation", "doi", "source", "default", "start",
                        "mainEffects", "terms", "decisions"):
                if key not in vs:
                    problems.append(f"{where}: missing '{key}'")
            if vs.get("id") + ".json" != name:
                problems.append(f"{where}: id {vs.get('id')!r} does not match the file name")
            if vs.get("instrument") != inst:
                problems.append(f"{where}: instrument {vs.get('instrument')!r} != {inst}")
            if vs.get("default") is True:
                defaults.append(vs["id"])

            def coef_ok(x, what):
                if not isinstance(x, str) or not COEF_RE.match(x):
                    problems.append(f"{where}: {what} = {x!r} is not a decimal string")

            coef_ok(vs.get("start"), "start")
            me = vs.get("mainEffects", {})
            if sorted(me) != sorted(DIMS):
                problems.append(f"{where}: mainEffects must have exactly {DIMS}")
            for dim, lv in me.items():
                for level, c in lv.items():
                    if level not in [str(i) for i in range(1, max_level(inst) + 1)]:
                        problems.append(f"{where}: mainEffects.{dim} has bad level {level!r}")
                    coef_ok(c, f"mainEffects.{dim}.{level}")
            for t in vs.get("terms", []):
                coef_ok(t.get("coefficient"), f"term {t.get('name')}")
                if t.get("kind") not in ("any", "dimension", "count"):
                    problems.append(f"{where}: term {t.get('name')} has unknown kind {t.get('kind')!r}")
                lv = t.get("levels")
                if not (isinstance(lv, list) and lv and all(isinstance(i, int) and 1 <= i <= max_level(inst) for i in lv)):
                    problems.append(f"{where}: term {t.get('name')} has bad levels {lv!r}")
                if t.get("kind") == "dimension" and t.get("dimension") not in DIMS:
                    problems.append(f"{where}: term {t.get('name')} has bad dimension")
                if t.get("kind") == "count" and not (isinstance(t.get("minus"), int) and isinstance(t.get("power"), int)):
                    problems.append(f"{where}: count term {t.get('name')} needs integer minus and power")
            out[vs["id"]] = vs
        if len(defaults) != 1:
            problems.append(f"{inst}: expected exactly one default value set, found {defaults}")
    return out, problems


def json_index(vs: dict, state: str) -> Decimal:
    levels = dict(zip(DIMS, (int(c) for c in state)))
    total = Decimal(vs["start"])
    for dim in DIMS:
        c = vs["mainEffects"][dim].get(str(levels[dim]))
        if c is not None:
            total += Decimal(c)
    for t in vs["terms"]:
        hit = set(t["levels"])
        coef = Decimal(t["coefficient"])
        if t["kind"] == "any":
            if any(levels[d] in hit for d in DIMS):
                total += coef
        elif t["kind"] == "dimension":
            if levels[t["dimension"]] in hit:
                total += coef
        elif t["kind"] == "count":
            n = sum(1 for d in DIMS if levels[d] in hit)
            total += coef * (max(0, n - t["minus"]) ** t["power"])
        else:
            raise ValueError(t["kind"])
    return total


# ---------------------------------------------------------------------------------------------------------------
# HAND tables against the coefficient tables of docs/scoring.md
# ---------------------------------------------------------------------------------------------------------------
SCORING_DOC = os.path.join(REPO, "docs", "scoring.md")
BEGIN, END = "<!-- eq5d-coefficients:begin -->", "<!-- eq5d-coefficients:end -->"


def scoring_doc_tables(path):
    """The Markdown tables between the markers: [{"cols": [value-set ids], "rows": {term: [cells]}}]."""
    text = open(path, encoding="utf-8").read()
    sec = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    tables, cur = [], None
    for line in sec.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cur is None:
                cur = {"cols": cells[1:], "rows": {}}
            elif not set(cells[0]) <= set("-: "):
                cur["rows"][cells[0]] = cells[1:]
        elif cur is not None:
            tables.append(cur)
            cur = None
    if cur is not None:
        tables.append(cur)
    return tables


def check_against_scoring_doc(problems):
    rel = os.path.relpath(SCORING_DOC, REPO)
    if not os.path.isfile(SCORING_DOC):
        problems.append(f"{rel} is missing: it documents the coefficient tables")
        return
    try:
        tables = scoring_doc_tables(SCORING_DOC)
    except ValueError:
        problems.append(f"{rel} has no {BEGIN} ... {END} section")
        return
    documented = [c for t in tables for c in t["cols"]]
    if sorted(documented) != sorted(HAND):
        problems.append(f"{rel} documents {sorted(documented)}, the hand model has {sorted(HAND)}")
    checked = 0
    for set_id, vs in HAND.items():
        table = next((t for t in tables if set_id in t["cols"]), None)
        if table is None:
            continue
        col = table["cols"].index(set_id)
        cell = lambda term: (table["rows"].get(term) or [""] * len(table["cols"]))[col]  # noqa: E731
        expected = {"start": vs["start"]}  # term -> string, from HAND
        if "constant" in vs:
            expected["constant"] = vs["constant"]
        if "n3" in vs:
            expected["N3"] = vs["n3"]
        for dim in DIMS:
            for level in range(1, max_level(vs["instrument"]) + 1):
                c = hand_coef(vs, dim, level)
                if c is not None:
                    expected[f"{dim}{level}"] = c
        for dim, c in vs.get("d45", {}).items():
            expected[f"{dim}45"] = c
        if "num45sq" in vs:
            expected["Num45sq"] = vs["num45sq"]
        expected.update(vs.get("d1", {}))
        # every non-empty cell of the column must be in HAND with the same string, and vice versa
        for term in table["rows"]:
            v = cell(term)
            if v != "" and expected.get(term) != v:
                problems.append(f"HAND {set_id} {term} = {expected.get(term)!r}, {rel} says {v!r}")
            checked += 1
        for term, v in expected.items():
            if cell(term) != v:
                problems.append(f"HAND {set_id} has {term} = {v!r}, {rel} cell is {cell(term)!r}")
    print(f"HAND tables match {rel}, {checked} cells checked")


# ---------------------------------------------------------------------------------------------------------------
def main(argv):
    problems = []
    valuesets, p = load_valuesets()
    problems += p
    if sorted(valuesets) != sorted(HAND):
        problems.append(f"value-set files {sorted(valuesets)} != hand sets {sorted(HAND)}")
    check_against_scoring_doc(problems)

    # HAND vs JSON on every state of every set
    n_states = 0
    for set_id, vs in HAND.items():
        if set_id not in valuesets:
            continue
        for state in all_states(vs["instrument"]):
            h, _ = hand_index(set_id, state)
            j = json_index(valuesets[set_id], state)
            n_states += 1
            if h != j:
                problems.append(f"{set_id} {state}: HAND {plain(h)} != JSON {plain(j)}")
        # sanity: full health is the best state of each set
        best = max(json_index(valuesets[set_id], s) for s in all_states(vs["instrument"]))
        if best != json_index(valuesets[set_id], "11111"):
            problems.append(f"{set_id}: some state scores above 11111")
    print(f"HAND and JSON evaluators compared on {n_states} states (all states of every set)")

    # anchors
    for set_id, state, expected, how, why in ANCHORS:
        got, _ = hand_index(set_id, state)
        shown = plain(got) if how == "exact" else rounded3(got)
        want = expected if how == "exact" else rounded3(Decimal(expected))
        if shown != want:
            problems.append(f"anchor {set_id} {state}: got {shown}, expected {want} ({why})")
    print(f"{len(ANCHORS)} published anchors checked")

    # vectors
    vectors = []
    for set_id, vs in HAND.items():
        states = (COMMON_5L if vs["instrument"] == "eq5d-5l" else COMMON_3L) + EXTRA.get(set_id, [])
        for state in states:
            total, working = hand_index(set_id, state)
            vectors.append({"valueSet": set_id, "state": state, "index": plain(total),
                            "rounded": rounded3(total), "working": working})

    width = max(len(v["working"]) for v in vectors)
    print(f"\n{'value set':<13} {'state':<6} {'index':>11} {'rounded':>8}  working")
    for v in vectors:
        print(f"{v['valueSet']:<13} {v['state']:<6} {v['index']:>11} {v['rounded']:>8}  {v['working']}")
    print(f"\n{len(vectors)} vectors over {len(HAND)} value sets")

    text = json.dumps(vectors, indent=2, ensure_ascii=False) + "\n"
    if "--write" in argv:
        os.makedirs(os.path.dirname(VECTORS), exist_ok=True)
        with open(VECTORS, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(VECTORS, REPO)}")
    elif not os.path.isfile(VECTORS):
        problems.append(f"{os.path.relpath(VECTORS, REPO)} is missing (run with --write)")
    else:
        with open(VECTORS, encoding="utf-8") as f:
            on_disk = json.load(f)
        if on_disk != vectors:
            problems.append(f"{os.path.relpath(VECTORS, REPO)} differs from the hand computation (run with --write)")
        # every vector on disk must also agree with the JSON evaluator
        for v in on_disk:
            j = json_index(valuesets[v["valueSet"]], v["state"])
            if plain(j) != v["index"]:
                problems.append(f"vector {v['valueSet']} {v['state']}: file {v['index']} != JSON {plain(j)}")

    if problems:
        print("\nFAILED:")
        for p in problems:
            print("  " + p)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
