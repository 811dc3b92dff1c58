"""End-to-end tests of `svar score`, `svar instruments` and `svar --help` (the built binary as a black box).

Contract (issue text): `svar score INSTRUMENT [--value-set ID]` reads one JSON object of answers on stdin and
prints one JSON object on stdout, exit 0; invalid input prints an error naming the field on stderr and exits 1.
Numbers from the binary are parsed with decimal.Decimal so that they stay exact.
"""
from __future__ import annotations
import decimal

import copy
import itertools
import json
import re
import shutil
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import REPO

import eq5d_hand_vectors

VECTOR_DIR = REPO / "Tests" / "SvarInstrumentsTests" / "Vectors"
BUNDLED_INSTRUMENTS = REPO / "Sources" / "SvarAssets" / "instruments"
DIMS = ("MO", "SC", "UA", "PD", "AD")

VALUE_SETS = {
    "no-2024": "eq5d-5l", "england-2018": "eq5d-5l", "uk-2026": "eq5d-5l", "dk-2021": "eq5d-5l",
    "se-2022": "eq5d-5l", "de-2018": "eq5d-5l", "nl-2016": "eq5d-5l", "us-2019": "eq5d-5l", "ca-2016": "eq5d-5l",
    "uk-1997": "eq5d-3l", "dk-2009": "eq5d-3l", "de-2005": "eq5d-3l", "nl-2006": "eq5d-3l", "us-2005": "eq5d-3l",
}
DEFAULT_SET = {"eq5d-5l": "no-2024", "eq5d-3l": "uk-1997"}
MAX_LEVEL = {"eq5d-5l": 5, "eq5d-3l": 3}
EQ5D_KEYS = {"state", "index", "indexRounded", "valueSet", "vas"}


def loads(text: str):
    """JSON with exact numbers: every number with a fraction or exponent becomes a Decimal."""
    return json.loads(text, parse_float=Decimal)


def is_number(x) -> bool:
    return isinstance(x, (int, Decimal)) and not isinstance(x, bool)


def answers_for(state: str, **extra) -> dict:
    out = {d: int(c) for d, c in zip(DIMS, state)}
    out.update(extra)
    return out


def ndjson(objs) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def score_one(svar, instrument: str, answers, *args: str) -> dict:
    text = answers if isinstance(answers, str) else json.dumps(answers)
    r = svar.run("score", instrument, *args, stdin=text)
    assert r.rc == 0, r
    assert r.stderr == "", r
    lines = r.stdout.splitlines()
    assert len(lines) == 1, f"expected exactly one JSON line on stdout\n{r}"
    out = loads(lines[0])
    assert isinstance(out, dict), r
    return out


def score_batch(svar, instrument: str, lines: list[str], *args: str) -> list[dict]:
    r = svar.run("score", instrument, "--batch", *args, stdin="".join(l + "\n" for l in lines))
    assert r.rc == 0, r
    out = r.stdout.splitlines()
    assert len(out) == len(lines), f"{len(lines)} lines in, {len(out)} lines out\n{r}"
    return [loads(l) for l in out]


def names_field(stderr: str, field: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_-]){re.escape(field)}(?![A-Za-z0-9_])", stderr) is not None


# ---------------------------------------------------------------------------------------------------------------
# EQ-5D: the hand-computed vectors (Tests/SvarInstrumentsTests/Vectors/eq5d.json)
# ---------------------------------------------------------------------------------------------------------------
VECTORS = json.loads((VECTOR_DIR / "eq5d.json").read_text(encoding="utf-8"))
VECTORS_BY_SET: dict[str, list[dict]] = defaultdict(list)
for _v in VECTORS:
    VECTORS_BY_SET[_v["valueSet"]].append(_v)


def check_eq5d_result(res: dict, value_set: str, state: str, index: str, rounded: str) -> list[str]:
    """Compare one result with a vector; return the differences (empty = equal)."""
    problems = []
    where = f"{value_set} {state}"
    if set(res) != EQ5D_KEYS:
        problems.append(f"{where}: keys {sorted(res)} != {sorted(EQ5D_KEYS)}")
    if res.get("state") != state:
        problems.append(f"{where}: state {res.get('state')!r}")
    if res.get("valueSet") != value_set:
        problems.append(f"{where}: valueSet {res.get('valueSet')!r}")
    got = res.get("index")
    if not is_number(got) or Decimal(got) != Decimal(index):
        problems.append(f"{where}: index {got!r} != {index}")
    got_r = res.get("indexRounded")
    if not is_number(got_r) or Decimal(got_r) != Decimal(rounded):
        problems.append(f"{where}: indexRounded {got_r!r} != {rounded}")
    elif not re.fullmatch(r"-?\d+\.\d{3}", str(got_r)):
        problems.append(f"{where}: indexRounded printed as {got_r} (not 3 decimals)")
    return problems


def test_vector_file_covers_every_value_set():
    assert set(VECTORS_BY_SET) == set(VALUE_SETS)
    assert all(len(v) >= 7 for v in VECTORS_BY_SET.values())


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_eq5d_hand_vectors(svar, value_set):
    instrument = VALUE_SETS[value_set]
    vectors = VECTORS_BY_SET[value_set]
    results = score_batch(svar, instrument, [json.dumps(answers_for(v["state"])) for v in vectors],
                          "--value-set", value_set)
    problems = []
    for v, res in zip(vectors, results):
        problems += check_eq5d_result(res, value_set, v["state"], v["index"], v["rounded"])
        if res.get("vas", "absent") is not None:
            problems.append(f"{value_set} {v['state']}: vas {res.get('vas')!r}, expected null")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_eq5d_single_score_matches_vector(svar, value_set):
    """Non-batch mode, one invocation: the most mixed vector of the set (most distinct levels)."""
    v = max(VECTORS_BY_SET[value_set], key=lambda v: (len(set(v["state"])), v["state"]))
    res = score_one(svar, VALUE_SETS[value_set], answers_for(v["state"], VAS=42), "--value-set", value_set)
    assert check_eq5d_result(res, value_set, v["state"], v["index"], v["rounded"]) == []
    assert res["vas"] == 42


@pytest.mark.parametrize("instrument", ["eq5d-5l", "eq5d-3l"])
def test_eq5d_default_value_set(svar, instrument):
    default = DEFAULT_SET[instrument]
    vectors = VECTORS_BY_SET[default]
    results = score_batch(svar, instrument, [json.dumps(answers_for(v["state"])) for v in vectors])
    problems = []
    for v, res in zip(vectors, results):
        problems += check_eq5d_result(res, default, v["state"], v["index"], v["rounded"])
    assert not problems, "\n".join(problems)
    single = score_one(svar, instrument, answers_for(vectors[2]["state"]))
    assert single["valueSet"] == default
    assert Decimal(single["index"]) == Decimal(vectors[2]["index"])


@pytest.mark.parametrize("value_set", sorted(VALUE_SETS))
def test_eq5d_every_state_matches_independent_hand_model(svar, value_set):
    """Bulk rescoring: all 3125 (5L) / 243 (3L) states in one --batch run, against the HAND model of
    e2e/eq5d_hand_vectors.py (coefficients typed from docs/scoring.md, model families written out by hand)."""
    instrument = VALUE_SETS[value_set]
    states = list(eq5d_hand_vectors.all_states(instrument))
    results = score_batch(svar, instrument, [json.dumps(answers_for(s)) for s in states], "--value-set", value_set)
    problems = []
    for state, res in zip(states, results):
        expected, _ = eq5d_hand_vectors.hand_index(value_set, state)
        problems += check_eq5d_result(res, value_set, state, str(expected), eq5d_hand_vectors.rounded3(expected))
        if len(problems) > 20:
            break
    assert not problems, "\n".join(problems)


def test_eq5d_output_keys_and_vas(svar):
    res = score_one(svar, "eq5d-5l", {"MO": 1, "SC": 2, "UA": 3, "PD": 4, "AD": 5, "VAS": 70})
    assert set(res) == EQ5D_KEYS
    assert res["state"] == "12345"
    assert res["valueSet"] == "no-2024"
    assert res["vas"] == 70 and is_number(res["vas"])
    # 1 - 0.031312 - 0.056743 - 0.303025 - 0.472 (docs/scoring.md, EQ-5D-5L table, Norway)
    assert res["index"] == Decimal("0.136920")
    assert str(res["indexRounded"]) == "0.137"

    res3 = score_one(svar, "eq5d-3l", {"MO": 1, "SC": 2, "UA": 3, "PD": 2, "AD": 1, "VAS": 0})
    assert set(res3) == EQ5D_KEYS
    assert (res3["state"], res3["valueSet"], res3["vas"]) == ("12321", "uk-1997", 0)
    assert res3["index"] == Decimal("0.329")  # Dolan's worked example


@pytest.mark.parametrize("vas", [0, 1, 50, 99, 100])
def test_eq5d_vas_is_reported_as_given_and_does_not_change_the_index(svar, vas):
    with_vas = score_one(svar, "eq5d-5l", answers_for("21354", VAS=vas))
    without = score_one(svar, "eq5d-5l", answers_for("21354"))
    assert with_vas["vas"] == vas
    assert without["vas"] is None
    assert with_vas["index"] == without["index"]


@pytest.mark.parametrize("instrument", ["eq5d-5l", "eq5d-3l"])
@pytest.mark.parametrize("missing", DIMS)
def test_eq5d_missing_dimension_gives_no_index(svar, instrument, missing):
    answers = answers_for("12121", VAS=55)
    del answers[missing]
    res = score_one(svar, instrument, answers)
    assert set(res) == EQ5D_KEYS
    assert res["state"] is None and res["index"] is None and res["indexRounded"] is None, res
    assert res["vas"] == 55

    answers_null = answers_for("12121", VAS=55)
    answers_null[missing] = None  # null = not answered, same as a missing key
    assert score_one(svar, instrument, answers_null) == res


@pytest.mark.parametrize("instrument", ["eq5d-5l", "eq5d-3l"])
def test_eq5d_nothing_answered(svar, instrument):
    res = score_one(svar, instrument, {})
    assert (res["state"], res["index"], res["indexRounded"], res["vas"]) == (None, None, None, None)
    res = score_one(svar, instrument, {"VAS": 80})
    assert (res["state"], res["index"], res["indexRounded"], res["vas"]) == (None, None, None, 80)


# ---------------------------------------------------------------------------------------------------------------
# EQ-5D: invalid answers (Tests/SvarInstrumentsTests/Vectors/eq5d-invalid.json)
# ---------------------------------------------------------------------------------------------------------------
INVALID = json.loads((VECTOR_DIR / "eq5d-invalid.json").read_text(encoding="utf-8"))


def _has_null(case) -> bool:
    return any(v is None for v in case["answers"].values())


def test_invalid_vector_file_has_refusals_and_nulls():
    assert sum(not _has_null(c) for c in INVALID) >= 15
    assert sum(_has_null(c) for c in INVALID) >= 1


@pytest.mark.parametrize("case", INVALID, ids=[c["case"] for c in INVALID])
def test_eq5d_invalid_answers(svar, case):
    instrument, field = case["instrument"], case["field"]
    r = svar.run("score", instrument, stdin=json.dumps(case["answers"]))
    if _has_null(case):
        # null means "not answered": not an error for `svar score`; no index if a dimension is null
        assert r.rc == 0, r
        res = loads(r.stdout)
        if field in DIMS:
            assert (res["state"], res["index"], res["indexRounded"]) == (None, None, None), res
            assert res["vas"] == case["answers"]["VAS"]
        else:
            assert res["vas"] is None
            assert res["state"] == "".join(str(case["answers"][d]) for d in DIMS)
        return
    assert r.rc == 1, r
    assert r.stdout == "", r
    assert names_field(r.stderr, field), f"stderr does not name {field}\n{r}"
    others = [k for k in case["answers"] if k != field]
    assert not [k for k in others if names_field(r.stderr, k)], f"stderr names other fields than {field}\n{r}"


def test_eq5d_invalid_answers_in_batch_name_the_field(svar):
    for instrument in ("eq5d-5l", "eq5d-3l"):
        cases = [c for c in INVALID if c["instrument"] == instrument]
        results = score_batch(svar, instrument, [json.dumps(c["answers"]) for c in cases])
        for n, (case, res) in enumerate(zip(cases, results), start=1):
            if _has_null(case):
                assert "error" not in res, (case, res)
            else:
                assert set(res) == {"error", "field", "line"}, (case, res)
                assert (res["field"], res["line"]) == (case["field"], n), (case, res)
                assert isinstance(res["error"], str) and res["error"], (case, res)


@pytest.mark.parametrize("text", ['{"MO":1,', "not json", "", "[1,2,3]", "null", '"12345"',
                                  '{"MO":1,"SC":1,"UA":1,"PD":1,"AD":1} trailing',
                                  '{"MO":1,"SC":1,"UA":1,"PD":1,"AD":1}\n{"MO":2}'])
def test_invalid_json_is_refused(svar, text):
    r = svar.run("score", "eq5d-5l", stdin=text)
    assert r.rc == 1, r
    assert r.stdout == "", r
    assert r.stderr.strip(), r


def test_duplicate_key_is_refused_naming_it(svar):
    r = svar.run("score", "eq5d-5l", stdin='{"MO":1,"SC":1,"UA":1,"PD":1,"AD":1,"MO":5}')
    assert r.rc == 1 and r.stdout == "", r
    assert names_field(r.stderr, "MO"), r


def test_unknown_instrument(svar):
    r = svar.run("score", "sf36-nonexistent", stdin="{}")
    assert r.rc == 1 and r.stdout == "", r
    assert "sf36-nonexistent" in r.stderr, r


@pytest.mark.parametrize("instrument,value_set", [("eq5d-5l", "xx-1999"), ("eq5d-3l", "no-2024"),
                                                  ("eq5d-5l", "uk-1997"), ("eq5d-5l", "")])
def test_unknown_value_set(svar, instrument, value_set):
    r = svar.run("score", instrument, "--value-set", value_set, stdin=json.dumps(answers_for("11111")))
    assert r.rc == 1 and r.stdout == "", r
    assert "--value-set" in r.stderr, r


@pytest.mark.parametrize("batch", [False, True])
def test_value_set_on_rand36_is_refused(svar, batch):
    args = ["score", "rand36", "--value-set", "no-2024"] + (["--batch"] if batch else [])
    r = svar.run(*args, stdin='{"1":1}\n')
    assert r.rc == 1 and r.stdout == "", r
    assert "--value-set" in r.stderr, r


def test_score_without_instrument_fails(svar):
    r = svar.run("score", stdin="{}")
    assert r.rc != 0 and r.stdout == "", r
    assert r.stderr.strip(), r


# ---------------------------------------------------------------------------------------------------------------
# --batch
# ---------------------------------------------------------------------------------------------------------------
def test_batch_mixed_lines(svar):
    good1 = answers_for("12345", VAS=70)
    good2 = answers_for("55555")
    good3 = {"MO": 1, "SC": 1, "UA": 1, "PD": 1}  # AD not answered: a result without index, not an error
    lines = [
        json.dumps(good1),                                   # 1 result
        "",                                                  # 2 blank
        json.dumps(answers_for("11111", MO=7)),              # 3 bad level -> field MO
        "not json",                                          # 4 bad JSON
        json.dumps(good2),                                   # 5 result
        json.dumps(answers_for("11111", XX=1)),              # 6 unknown key -> field XX
        "[1]",                                               # 7 not an object
        json.dumps(answers_for("11111", VAS=101)),           # 8 bad VAS -> field VAS
        json.dumps(good3),                                   # 9 result without index
        "   ",                                               # 10 whitespace only
        json.dumps(answers_for("21111")),                    # 11 result
    ]
    results = score_batch(svar, "eq5d-5l", lines)
    expected_fields = {3: "MO", 6: "XX", 8: "VAS"}
    goods = {1: good1, 5: good2, 9: good3, 11: answers_for("21111")}
    for n, res in enumerate(results, start=1):
        if n in goods:
            assert "error" not in res, (n, res)
            assert res == score_one(svar, "eq5d-5l", goods[n]), (n, res)
        else:
            assert isinstance(res.get("error"), str) and res["error"], (n, res)
            assert res.get("line") == n, (n, res)
            assert set(res) <= {"error", "line", "field"}, (n, res)
            if n in expected_fields:
                assert res.get("field") == expected_fields[n], (n, res)
    assert results[8]["index"] is None and results[8]["state"] is None


def test_batch_with_value_set_and_crlf_and_no_trailing_newline(svar):
    r = svar.run("score", "eq5d-3l", "--batch", "--value-set", "us-2005",
                 stdin=json.dumps(answers_for("33333")) + "\r\n" + json.dumps(answers_for("11121")))
    assert r.rc == 0, r
    out = [loads(l) for l in r.stdout.splitlines()]
    assert len(out) == 2, r
    assert [o["state"] for o in out] == ["33333", "11121"]
    assert all(o["valueSet"] == "us-2005" for o in out)
    for o in out:
        expected, _ = eq5d_hand_vectors.hand_index("us-2005", o["state"])
        assert Decimal(o["index"]) == expected


def test_batch_empty_input(svar):
    r = svar.run("score", "eq5d-5l", "--batch", stdin="")
    assert (r.rc, r.stdout) == (0, ""), r


def test_batch_rand36(svar):
    results = score_batch(svar, "rand36", ['{"1":1}', '{"1":6}', '{"3":3,"4":1}'])
    assert results[0]["generalHealth"] == 100
    assert results[1] .get("field") == "1" and results[1]["line"] == 2
    assert results[2]["physicalFunctioning"] == 50


# ---------------------------------------------------------------------------------------------------------------
# RAND-36: RAND's recode table and scales (docs/scoring.md, RAND-36), written out here independently of
# the repository's scoring.json
# ---------------------------------------------------------------------------------------------------------------
DOWN5 = {1: 100, 2: 75, 3: 50, 4: 25, 5: 0}
UP3 = {1: 0, 2: 50, 3: 100}
UP2 = {1: 0, 2: 100}
DOWN6 = {1: 100, 2: 80, 3: 60, 4: 40, 5: 20, 6: 0}
UP6 = {1: 0, 2: 20, 3: 40, 4: 60, 5: 80, 6: 100}
UP5 = {1: 0, 2: 25, 3: 50, 4: 75, 5: 100}
RECODE: dict[int, dict[int, int]] = {}
for _items, _table in (((1, 2, 20, 22, 34, 36), DOWN5), (range(3, 13), UP3), (range(13, 20), UP2),
                       ((21, 23, 26, 27, 30), DOWN6), ((24, 25, 28, 29, 31), UP6), ((32, 33, 35), UP5)):
    for _i in _items:
        RECODE[_i] = _table
SCALES = {
    "physicalFunctioning": list(range(3, 13)),
    "rolePhysical": [13, 14, 15, 16],
    "roleEmotional": [17, 18, 19],
    "energyFatigue": [23, 27, 29, 31],
    "emotionalWellbeing": [24, 25, 26, 28, 30],
    "socialFunctioning": [20, 32],
    "pain": [21, 22],
    "generalHealth": [1, 33, 34, 35, 36],
    "healthChange": [2],
}
# SF-36 half rule (docs/scoring.md, missing data): minimum items answered; health change is a single item
HALF_RULE = {"physicalFunctioning": 5, "rolePhysical": 2, "roleEmotional": 2, "energyFatigue": 2,
             "emotionalWellbeing": 3, "socialFunctioning": 1, "pain": 1, "generalHealth": 3, "healthChange": 1}
RAND36_KEYS = set(SCALES) | {"itemsAnswered", "halfRuleMet"}


def test_rand36_tables_are_complete():
    assert sorted(RECODE) == list(range(1, 37))
    assert sorted(i for items in SCALES.values() for i in items) == list(range(1, 37))


def rand36_expected(answers: dict[str, int]) -> dict:
    scales, counts, half = {}, {}, {}
    for scale, items in SCALES.items():
        values = [RECODE[i][answers[str(i)]] for i in items if answers.get(str(i)) is not None]
        scales[scale] = Fraction(sum(values), len(values)) if values else None
        counts[scale] = len(values)
        half[scale] = len(values) >= HALF_RULE[scale]
    return {"scales": scales, "itemsAnswered": counts, "halfRuleMet": half}


def terminates(f: Fraction) -> bool:
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def rand36_problems(res: dict, answers: dict) -> list[str]:
    exp = rand36_expected(answers)
    problems = []
    if set(res) != RAND36_KEYS:
        problems.append(f"keys {sorted(res)} != {sorted(RAND36_KEYS)}")
    for scale, want in exp["scales"].items():
        got = res.get(scale, "absent")
        if want is None:
            if got is not None:
                problems.append(f"{scale}: {got!r}, expected null")
        elif not is_number(got):
            problems.append(f"{scale}: {got!r}, expected {float(want)}")
        elif terminates(want):
            if Fraction(Decimal(got)) != want:
                problems.append(f"{scale}: {got}, expected exactly {float(want)}")
        else:
            # Svar's documented policy: a mean that does not terminate is rounded half away from zero
            # at the 12th decimal (e.g. 200/3 -> 66.666666666667).
            exact = Decimal(want.numerator) / Decimal(want.denominator)
            rounded = exact.quantize(Decimal("1e-12"), rounding=decimal.ROUND_HALF_UP)
            if Decimal(got) != rounded:
                problems.append(f"{scale}: {got}, expected {want} rounded at 12 decimals = {rounded}")
    if res.get("itemsAnswered") != exp["itemsAnswered"]:
        problems.append(f"itemsAnswered {res.get('itemsAnswered')} != {exp['itemsAnswered']}")
    if res.get("halfRuleMet") != exp["halfRuleMet"]:
        problems.append(f"halfRuleMet {res.get('halfRuleMet')} != {exp['halfRuleMet']}")
    return problems


FULL_RESPONSE = {
    "1": 2, "2": 3, "3": 1, "4": 2, "5": 3, "6": 2, "7": 3, "8": 2, "9": 1, "10": 3, "11": 3, "12": 3,
    "13": 1, "14": 2, "15": 2, "16": 1, "17": 2, "18": 1, "19": 2, "20": 4, "21": 3, "22": 2,
    "23": 2, "24": 5, "25": 6, "26": 3, "27": 4, "28": 4, "29": 3, "30": 2, "31": 5,
    "32": 4, "33": 4, "34": 2, "35": 3, "36": 1,
}


def test_rand36_full_response(svar):
    assert sorted(FULL_RESPONSE, key=int) == [str(i) for i in range(1, 37)]
    res = score_one(svar, "rand36", FULL_RESPONSE)
    assert rand36_problems(res, FULL_RESPONSE) == []
    # the same numbers worked by hand from RAND Table 1/2, as a check on the test's own tables
    assert res["physicalFunctioning"] == 65      # (0+50+100+50+100+50+0+100+100+100)/10
    assert res["rolePhysical"] == 50             # (0+100+100+0)/4
    assert res["pain"] == Decimal("67.5")        # (60+75)/2
    assert res["generalHealth"] == 75            # (75+75+75+50+100)/5
    assert res["healthChange"] == 50


def test_rand36_all_ones_by_hand(svar):
    answers = {str(i): 1 for i in range(1, 37)}
    res = score_one(svar, "rand36", answers)
    assert rand36_problems(res, answers) == []
    assert {k: res[k] for k in SCALES} == {
        "physicalFunctioning": 0, "rolePhysical": 0, "roleEmotional": 0, "energyFatigue": 50,
        "emotionalWellbeing": 40, "socialFunctioning": 50, "pain": 100, "generalHealth": 60, "healthChange": 100}
    assert res["itemsAnswered"] == {s: len(i) for s, i in SCALES.items()}


def test_rand36_every_item_and_code_alone(svar):
    """Each item answered alone with each of its codes: exactly its scale is scored, with RAND's recode."""
    cases = [{str(i): code} for i in range(1, 37) for code in sorted(RECODE[i])]
    results = score_batch(svar, "rand36", [json.dumps(c) for c in cases])
    problems = []
    for case, res in zip(cases, results):
        problems += [f"{case}: {p}" for p in rand36_problems(res, case)]
    assert not problems, "\n".join(problems[:30])


def test_rand36_partly_answered(svar):
    answers = {"3": 1, "4": 2, "5": 3,          # PF 3 of 10: mean 50, half rule not met
               "17": 2, "18": 1,                 # RE 2 of 3: 50, half rule met
               "21": 1,                          # pain 1 of 2
               "24": 2, "25": 3, "26": 4,        # EWB 3 of 5
               "33": 5, "34": 5,                 # GH 2 of 5
               "1": None}                        # null = not answered
    res = score_one(svar, "rand36", answers)
    assert rand36_problems(res, answers) == []
    for scale in ("rolePhysical", "energyFatigue", "socialFunctioning", "healthChange"):
        assert res[scale] is None and res["itemsAnswered"][scale] == 0
    assert res["itemsAnswered"]["physicalFunctioning"] == 3
    assert res["itemsAnswered"]["generalHealth"] == 2
    assert res["halfRuleMet"]["physicalFunctioning"] is False
    assert res["halfRuleMet"]["roleEmotional"] is True


def test_rand36_repeating_decimal_mean(svar):
    answers = {"17": 1, "18": 2, "19": 2}  # (0 + 100 + 100) / 3
    res = score_one(svar, "rand36", answers)
    assert rand36_problems(res, answers) == []


def test_rand36_nothing_answered(svar):
    res = score_one(svar, "rand36", {})
    assert set(res) == RAND36_KEYS
    assert all(res[s] is None for s in SCALES)
    assert res["itemsAnswered"] == {s: 0 for s in SCALES}


def test_rand36_out_of_range_codes_name_the_item(svar):
    cases = [{str(i): code} for i in range(1, 37) for code in (0, max(RECODE[i]) + 1)]
    cases += [{"37": 1}, {"0": 1}, {"5": "2"}, {"5": 2.5}, {"5": True}]
    results = score_batch(svar, "rand36", [json.dumps(c) for c in cases])
    problems = []
    for n, (case, res) in enumerate(zip(cases, results), start=1):
        (field,) = case
        if not (isinstance(res.get("error"), str) and res.get("field") == field and res.get("line") == n):
            problems.append(f"{case}: {res}")
    assert not problems, "\n".join(problems)
    r = svar.run("score", "rand36", stdin='{"1":1,"21":7}')
    assert r.rc == 1 and r.stdout == "" and names_field(r.stderr, "21"), r


# ---------------------------------------------------------------------------------------------------------------
# --list-value-sets
# ---------------------------------------------------------------------------------------------------------------
def test_list_value_sets(svar):
    r = svar.run("score", "--list-value-sets", stdin="")
    assert r.rc == 0, r
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    assert len(lines) == len(VALUE_SETS), r
    listed = {}
    for line in lines:
        fields = line.split("\t")
        assert len(fields) >= 2, f"not tab-separated: {line!r}"
        assert fields[0] not in listed, f"{fields[0]} listed twice"
        listed[fields[0]] = fields[1]
    assert listed == VALUE_SETS


# ---------------------------------------------------------------------------------------------------------------
# SVAR_INSTRUMENTS_DIR override
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture()
def instruments_copy(tmp_path) -> Path:
    dest = tmp_path / "instruments"
    shutil.copytree(BUNDLED_INSTRUMENTS, dest)
    return dest


def _edit_value_set(root: Path, value_set: str, edit) -> None:
    path = root / "eq5d-5l" / "valuesets" / f"{value_set}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


def test_instruments_dir_override_changes_the_index(svar, instruments_copy):
    def edit(vs):
        assert vs["mainEffects"]["MO"]["2"] == "-0.03116"
        vs["mainEffects"]["MO"]["2"] = "-0.1"
    _edit_value_set(instruments_copy, "no-2024", edit)
    env = {"SVAR_INSTRUMENTS_DIR": str(instruments_copy)}

    bundled = score_one(svar, "eq5d-5l", answers_for("21111"))
    assert bundled["index"] == Decimal("0.96884")
    # the copy is only used when the variable points at it
    assert score_one(svar, "eq5d-5l", json.dumps(answers_for("21111")), "--value-set", "no-2024") == bundled

    r = svar.run("score", "eq5d-5l", stdin=json.dumps(answers_for("21111")), env=env)
    assert r.rc == 0, r
    res = loads(r.stdout)
    assert res["index"] == Decimal("0.9") and str(res["indexRounded"]) == "0.900", r
    r = svar.run("score", "eq5d-5l", stdin=json.dumps(answers_for("21112")), env=env)
    assert loads(r.stdout)["index"] == Decimal("1") - Decimal("0.1") - Decimal("0.071744"), r
    r = svar.run("score", "eq5d-5l", stdin=json.dumps(answers_for("31111")), env=env)
    assert loads(r.stdout)["index"] == Decimal("0.935015"), r  # MO3 untouched


def test_instruments_dir_override_missing_directory(svar, tmp_path):
    missing = tmp_path / "no-such-instruments"
    for args, stdin in ((("score", "eq5d-5l"), json.dumps(answers_for("11111"))),
                        (("instruments", "list"), ""), (("instruments", "check"), "")):
        r = svar.run(*args, stdin=stdin, env={"SVAR_INSTRUMENTS_DIR": str(missing)})
        assert r.rc == 1 and r.stdout == "", r
        assert "SVAR_INSTRUMENTS_DIR" in r.stderr, r


def test_instruments_dir_override_broken_coefficient(svar, instruments_copy):
    def edit(vs):
        vs["mainEffects"]["MO"]["2"] = -0.03116  # a binary float, not a decimal string
    _edit_value_set(instruments_copy, "no-2024", edit)
    env = {"SVAR_INSTRUMENTS_DIR": str(instruments_copy)}
    r = svar.run("instruments", "check", env=env)
    assert r.rc == 1, r
    assert "no-2024.json" in r.stderr and "MO" in r.stderr, r
    r = svar.run("instruments", "check", str(instruments_copy))
    assert r.rc == 1 and "no-2024.json" in r.stderr, r
    r = svar.run("score", "eq5d-5l", stdin=json.dumps(answers_for("11111")), env=env)
    assert r.rc == 1 and r.stdout == "" and "no-2024.json" in r.stderr, r


def test_web_dir_override_missing_directory(svar, tmp_path):
    r = svar.run("score", "eq5d-5l", stdin=json.dumps(answers_for("11111")),
                 env={"SVAR_WEB_DIR": str(tmp_path / "no-such-web")})
    # Whether `score` needs the web folder is not specified; if it fails, it must name the variable.
    if r.rc != 0:
        assert r.rc == 1 and "SVAR_WEB_DIR" in r.stderr, r
    else:
        assert loads(r.stdout)["index"] == 1, r


# ---------------------------------------------------------------------------------------------------------------
# svar instruments check / list / import
# ---------------------------------------------------------------------------------------------------------------
def test_instruments_check_bundled(svar):
    r = svar.run("instruments", "check")
    assert r.rc == 0, r
    assert "ok" in r.stdout, r


def test_instruments_check_copy(svar, instruments_copy):
    r = svar.run("instruments", "check", env={"SVAR_INSTRUMENTS_DIR": str(instruments_copy)})
    assert r.rc == 0 and "ok" in r.stdout, r
    r = svar.run("instruments", "check", str(instruments_copy))
    assert r.rc == 0 and "ok" in r.stdout, r


def test_instruments_check_missing_directory_argument(svar, tmp_path):
    missing = tmp_path / "nowhere"
    r = svar.run("instruments", "check", str(missing))
    assert r.rc == 1, r
    assert str(missing) in r.stderr, r


def languages(list_output: str, instrument: str) -> list[str]:
    for line in list_output.splitlines():
        fields = line.split("\t")
        if fields[0] == instrument:
            for f in fields:
                if f.startswith("languages:"):
                    return f.split(":", 1)[1].split()
    raise AssertionError(f"{instrument} not listed with languages:\n{list_output}")


def test_instruments_list(svar):
    r = svar.run("instruments", "list")
    assert r.rc == 0, r
    for instrument in ("rand36", "eq5d-5l", "eq5d-3l", "kvarus-followup"):
        assert sorted(l.rstrip("*") for l in languages(r.stdout, instrument)) == ["en", "nb", "nn"]
    assert "nb" in languages(r.stdout, "eq5d-5l")  # Svar's own wording, not marked official


SOURCE_PACK = BUNDLED_INSTRUMENTS / "eq5d-5l" / "text" / "nb.json"


def official_pack() -> dict:
    pack = json.loads(SOURCE_PACK.read_text(encoding="utf-8"))
    pack["official"] = True
    pack["source"] = "EuroQol Research Foundation, licensed to the registry (test)"
    pack["items"]["MO"]["text"] = "Gangfunksjon (offisiell ordlyd, test)"
    pack["items"]["MO"]["options"]["1"] = "Jeg har ingen problemer med å gå omkring (test)"
    return pack


def write_pack(folder: Path, pack: dict, name: str = "pack.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(pack, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def test_instruments_import_official_pack(svar, tmp_path):
    source = tmp_path / "licensed"
    target = tmp_path / "text-packs"
    pack = official_pack()
    write_pack(source, pack, "eq5d-5l-nb-official.json")
    env = {"SVAR_TEXT_PACKS_DIR": str(target)}

    before = svar.run("instruments", "list", env=env)
    assert before.rc == 0 and "nb" in languages(before.stdout, "eq5d-5l"), before

    r = svar.run("instruments", "import", str(source), env=env)
    assert r.rc == 0, r
    installed = files_under(target)
    assert len(installed) == 1, installed
    assert json.loads(installed[0].read_text(encoding="utf-8")) == pack

    after = svar.run("instruments", "list", env=env)
    assert after.rc == 0, after
    assert "nb*" in languages(after.stdout, "eq5d-5l"), after
    assert "nb" in languages(after.stdout, "eq5d-3l"), after  # other instruments untouched
    r = svar.run("instruments", "check", env=env)
    assert r.rc == 0, r


def test_instruments_import_default_target_is_relative_to_cwd(svar, tmp_path):
    source = tmp_path / "licensed"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    write_pack(source, official_pack())
    r = svar.run("instruments", "import", str(source), cwd=cwd)
    assert r.rc == 0, r
    assert [p.relative_to(cwd).parts[0] for p in files_under(cwd)] == ["text-packs"]
    r = svar.run("instruments", "list", cwd=cwd)
    assert "nb*" in languages(r.stdout, "eq5d-5l"), r


def _missing_code(pack):
    del pack["items"]["SC"]["options"]["3"]


def _unknown_link(pack):
    pack["items"]["ZZ"] = {"text": "Et spørsmål som ikke finnes"}


def _unknown_code(pack):
    pack["items"]["PD"]["options"]["6"] = "Finnes ikke"


def _missing_link(pack):
    del pack["items"]["AD"]


def _wrong_instrument(pack):
    pack["instrument"] = "eq5d-3l"  # 5 options per dimension do not fit the 3L instrument


@pytest.mark.parametrize("breakage,mentions", [(_missing_code, "SC"), (_unknown_link, "ZZ"), (_unknown_code, "PD"),
                                               (_missing_link, "AD"), (_wrong_instrument, "eq5d-3l")],
                         ids=["missing-code", "unknown-linkId", "unknown-code", "missing-linkId", "wrong-instrument"])
def test_instruments_import_refuses_mismatching_pack(svar, tmp_path, breakage, mentions):
    source = tmp_path / "licensed"
    target = tmp_path / "text-packs"
    pack = official_pack()
    breakage(pack)
    write_pack(source, pack)
    r = svar.run("instruments", "import", str(source), env={"SVAR_TEXT_PACKS_DIR": str(target)})
    assert r.rc == 1, r
    assert names_field(r.stderr, mentions), r
    assert files_under(target) == [], "a refused import wrote files"


def test_instruments_import_refuses_whole_folder_for_one_bad_pack(svar, tmp_path):
    source = tmp_path / "licensed"
    target = tmp_path / "text-packs"
    write_pack(source, official_pack(), "a-good.json")
    bad = official_pack()
    bad["language"] = "nn"
    _unknown_link(bad)
    write_pack(source, bad, "b-bad.json")
    r = svar.run("instruments", "import", str(source), env={"SVAR_TEXT_PACKS_DIR": str(target)})
    assert r.rc == 1, r
    assert "ZZ" in r.stderr, r
    assert files_under(target) == []


def test_instruments_import_missing_directory(svar, tmp_path):
    r = svar.run("instruments", "import", str(tmp_path / "nowhere"),
                 env={"SVAR_TEXT_PACKS_DIR": str(tmp_path / "tp")})
    assert r.rc == 1 and str(tmp_path / "nowhere") in r.stderr, r
    assert files_under(tmp_path / "tp") == []


# ---------------------------------------------------------------------------------------------------------------
# help
# ---------------------------------------------------------------------------------------------------------------
def test_top_level_help(svar):
    r = svar.run("--help")
    assert r.rc == 0, r
    for command in ("serve", "score", "instruments"):
        assert re.search(rf"^\s+{command}\s", r.stdout, re.M), f"--help does not list {command}\n{r}"
    for variable in ("SVAR_HOST", "SVAR_PORT", "SVAR_INSTRUMENTS_DIR", "SVAR_WEB_DIR", "SVAR_TEXT_PACKS_DIR"):
        assert variable in r.stdout, f"--help does not mention {variable}"


@pytest.mark.parametrize("command", [["serve"], ["score"], ["instruments"], ["instruments", "list"],
                                     ["instruments", "check"], ["instruments", "import"]])
def test_subcommand_help(svar, command):
    r = svar.run(*command, "--help")
    assert r.rc == 0, r
    assert "USAGE:" in r.stdout and f"svar {' '.join(command)}" in r.stdout, r


def test_score_help_documents_options(svar):
    r = svar.run("score", "--help")
    for option in ("--value-set", "--batch", "--list-value-sets"):
        assert option in r.stdout, r


def test_unknown_subcommand_fails(svar):
    r = svar.run("frobnicate")
    assert r.rc != 0 and r.stderr.strip(), r
