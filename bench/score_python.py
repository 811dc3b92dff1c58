"""A straightforward Python scorer, the yardstick for `svar score --batch` in bench/score.

Usage: python3 bench/score_python.py INSTRUMENT [VALUE_SET] < responses.ndjson > scores.ndjson

It reads the same instrument data (instruments/<id>/questionnaire.json, scoring.json, valuesets/) and does
the same work per line: json.loads, check every answer against the questionnaire, score with exact
decimals (RAND-36 scale means rounded at the 12th decimal, EQ-5D value-set index, Kvarus indicators) and
json.dumps the result (or an error object). Numbers are printed as JSON floats, so the output is
equivalent to svar's, not byte-identical.
"""
import json
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

INSTRUMENTS = Path(__file__).resolve().parent.parent / "instruments"
TWELVE_PLACES = Decimal("1e-12")
THREE_PLACES = Decimal("0.001")


class AnswerError(Exception):
    def __init__(self, field, reason):
        super().__init__(reason)
        self.field = field


def questions(items):
    for item in items:
        if item["type"] in ("choice", "integer"):
            yield item
        yield from questions(item.get("item", []))


def checker(questionnaire):
    """linkId -> a function that returns the checked value or raises AnswerError."""
    rules = {}
    for item in questions(questionnaire["item"]):
        if item["type"] == "choice":
            rules[item["linkId"]] = ("codes", {int(o["valueCoding"]["code"]) for o in item["answerOption"]})
        else:
            ext = {e["url"].rsplit("/", 1)[-1]: e.get("valueInteger") for e in item.get("extension", [])}
            rules[item["linkId"]] = ("range", (ext["minValue"], ext["maxValue"]))
    return rules


def check(rules, instrument, answers):
    if not isinstance(answers, dict):
        raise AnswerError("$", "expected a JSON object of answers")
    checked = {}
    for key, value in answers.items():
        rule = rules.get(key)
        if rule is None:
            raise AnswerError(key, f"is not a question of {instrument}")
        if value is None:
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnswerError(key, f"expected a whole number, found {value!r}")
        kind, allowed = rule
        if kind == "codes" and value not in allowed or kind == "range" and not allowed[0] <= value <= allowed[1]:
            raise AnswerError(key, f"{value} is not an allowed answer")
        checked[key] = value
    return checked


def scale_means(scoring):
    recode = {}
    for group in scoring["recodes"]:
        for item in group["items"]:
            recode[item] = {int(code): Decimal(value) for code, value in group["values"].items()}
    scales = scoring["scales"]

    def score(answers):
        means, answered, half = {}, {}, {}
        for scale in scales:
            total, count = Decimal(0), 0
            for item in scale["items"]:
                code = answers.get(item)
                if code is not None and code in recode[item]:
                    total += recode[item][code]
                    count += 1
            mean = (total / count).quantize(TWELVE_PLACES, ROUND_HALF_UP) if count else None
            means[scale["id"]] = float(mean) if mean is not None else None
            answered[scale["id"]] = count
            half[scale["id"]] = count >= scale["halfRuleMinimum"]
        return {**means, "itemsAnswered": answered, "halfRuleMet": half}

    return score


def eq5d(scoring, instrument, value_set_id):
    sets = [json.loads(p.read_text()) for p in sorted((INSTRUMENTS / instrument / "valuesets").glob("*.json"))]
    chosen = next(s for s in sets if (s["id"] == value_set_id if value_set_id else s.get("default")))
    start = Decimal(chosen["start"])
    effects = {d: {int(level): Decimal(c) for level, c in by.items()} for d, by in chosen["mainEffects"].items()}
    terms = chosen.get("terms", [])
    for term in terms:
        term["coefficient"] = Decimal(term["coefficient"])
    dimensions, vas = scoring["dimensions"], scoring["vas"]

    def index(levels):
        total = start
        for dimension, level in zip(dimensions, levels):
            total += effects.get(dimension, {}).get(level, 0)
        for term in terms:
            hits = [level in term["levels"] for level in levels]
            if term["kind"] == "any" and any(hits):
                total += term["coefficient"]
            elif term["kind"] == "dimension" and levels[dimensions.index(term["dimension"])] in term["levels"]:
                total += term["coefficient"]
            elif term["kind"] == "count":
                factor = max(0, sum(hits) - term["minus"]) ** term["power"]
                total += term["coefficient"] * factor
        return total

    def score(answers):
        levels = [answers.get(d) for d in dimensions]
        value = index(levels) if None not in levels else None
        return {
            "state": "".join(map(str, levels)) if value is not None else None,
            "index": float(value) if value is not None else None,
            "indexRounded": float(value.quantize(THREE_PLACES, ROUND_HALF_UP)) if value is not None else None,
            "valueSet": chosen["id"],
            "vas": answers.get(vas),
        }

    return score


def indicators(scoring):
    def score(answers):
        out = {}
        for indicator in scoring["indicators"]:
            rule, codes = indicator["rule"], set(indicator.get("codes", []))
            if rule == "value":
                out[indicator["id"]] = answers.get(indicator["item"])
            elif rule == "codeIn":
                code = answers.get(indicator["item"])
                out[indicator["id"]] = None if code is None else code in codes
            else:
                given = [answers[i] for i in indicator["items"] if i in answers]
                complete = len(given) == len(indicator["items"])
                if rule == "allIn":
                    out[indicator["id"]] = all(g in codes for g in given) if complete else None
                else:
                    out[indicator["id"]] = True if any(g in codes for g in given) else (False if complete else None)
        return out

    return score


def main():
    instrument = sys.argv[1]
    value_set = sys.argv[2] if len(sys.argv) > 2 else None
    folder = INSTRUMENTS / instrument
    rules = checker(json.loads((folder / "questionnaire.json").read_text()))
    scoring = json.loads((folder / "scoring.json").read_text())
    score = {"scale-means": lambda: scale_means(scoring), "eq5d": lambda: eq5d(scoring, instrument, value_set),
             "indicators": lambda: indicators(scoring)}[scoring["method"]]()
    out = sys.stdout
    for number, line in enumerate(sys.stdin, 1):
        try:
            result = score(check(rules, instrument, json.loads(line)))
        except AnswerError as error:
            result = {"error": f"{error.field}: {error}", "field": error.field, "line": number}
        except ValueError as error:
            result = {"error": str(error), "line": number}
        out.write(json.dumps(result, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
