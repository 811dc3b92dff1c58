#!/usr/bin/env python3
"""Validate Svar's instrument definitions (instruments/README.md).

For every instruments/<id>/questionnaire.json:
  * parse it with the FHIR R4B Questionnaire model of the PyPI package `fhir.resources` (8.x);
  * check Svar's own rules from instruments/README.md (id, url, language, scoring extension, groups,
    precodes "1".."k" in order, integer min/max, enableWhen targets, ...), including the FHIR code
    bindings that fhir.resources does not enforce (status, item type, enableWhen operator);
and for every text pack instruments/<id>/text/<lang>.json (nb, nn, en are required):
  * `instrument`, `instrumentVersion` and `language` (= file name) match;
  * every linkId (groups included) has a non-empty `text`, and no unknown linkId is named;
  * every choice item lists exactly the questionnaire's answer codes under `options`;
  * the `en` pack's texts equal the questionnaire's texts (title, description, item text, option display).

Usage:   python3 e2e/validate_questionnaires.py [INSTRUMENTS_DIR]
         pytest e2e/validate_questionnaires.py
Prints one line per file checked; exits non-zero if anything is wrong.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from fhir.resources.R4B.questionnaire import Questionnaire

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "instruments"
REQUIRED_LANGUAGES = ("nb", "nn", "en")
SCORING_EXTENSION = "urn:svar:extension:scoring"
SCORING_CODES = {"rand36", "eq5d", "kvarus-followup"}
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time", "string",
              "text", "url", "choice", "open-choice", "attachment", "reference", "quantity"}
PUBLICATION_STATUS = {"draft", "active", "retired", "unknown"}
ENABLE_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
PACK_KEYS = {"instrument", "instrumentVersion", "language", "title", "introduction", "source", "official",
             "items"}
PACK_ITEM_KEYS = {"text", "options", "help", "minLabel", "maxLabel", "timeFrame"}


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def load_json(path: Path) -> object:
    """json.load that also refuses duplicate keys (a hand-editing mistake json silently accepts)."""

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"duplicate key(s) {dup}")
        return dict(pairs)

    with path.open(encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=no_duplicates)


def walk_items(items, parent=None):
    """Yield (item, parent) over the item tree, depth first, in questionnaire order."""
    for item in items or []:
        yield item, parent
        yield from walk_items(item.get("item"), item)


def nonempty_str(value) -> bool:
    return isinstance(value, str) and value.strip() != ""


def check_questionnaire(path: Path, problems: Problems) -> dict | None:
    """Check one questionnaire.json; return the raw dict (or None if it could not be read)."""
    where = str(path)
    try:
        raw = load_json(path)
    except (OSError, ValueError) as e:
        problems.add(where, f"not valid JSON: {e}")
        return None
    if not isinstance(raw, dict):
        problems.add(where, "top level is not a JSON object")
        return None

    # 1. FHIR R4B model (structure, data types, cardinalities, required fields, unknown fields).
    try:
        Questionnaire.model_validate_json(path.read_bytes())
    except Exception as e:  # pydantic.ValidationError and fhir_core errors
        problems.add(where, f"fhir.resources R4B Questionnaire rejects it: {e}")

    # 2. Svar's rules (instruments/README.md).
    iid = path.parent.name
    expect = {
        "resourceType": "Questionnaire",
        "id": iid,
        "url": f"urn:svar:questionnaire:{iid}",
        "status": "active",
        "language": "en",
    }
    for key, value in expect.items():
        if raw.get(key) != value:
            problems.add(where, f"{key} must be {value!r}, is {raw.get(key)!r}")
    if raw.get("status") not in PUBLICATION_STATUS:
        problems.add(where, f"status {raw.get('status')!r} is not a FHIR publication status")
    for key in ("version", "name", "title", "publisher", "copyright"):
        if not nonempty_str(raw.get(key)):
            problems.add(where, f"{key} is missing or empty")
    version = raw.get("version")
    if isinstance(version, str) and not (len(version.split(".")) == 3
                                         and all(p.isdigit() for p in version.split("."))):
        problems.add(where, f"version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")

    ext = raw.get("extension") or []
    scoring = [e for e in ext if isinstance(e, dict) and e.get("url") == SCORING_EXTENSION]
    if len(ext) != 1 or len(scoring) != 1:
        problems.add(where, f"extension must be exactly one {SCORING_EXTENSION} entry")
    elif scoring[0].get("valueCode") not in SCORING_CODES:
        problems.add(where, f"scoring valueCode {scoring[0].get('valueCode')!r} not in {sorted(SCORING_CODES)}")

    top = raw.get("item") or []
    if not top:
        problems.add(where, "no items")
    for item in top:
        if item.get("type") != "group":
            problems.add(where, f"top-level item {item.get('linkId')!r} is not a group")

    system = f"urn:svar:instrument:{iid}"
    seen: dict[str, dict] = {}
    for item, parent in walk_items(top):
        link = item.get("linkId")
        at = f"{where} [{link}]"
        if not nonempty_str(link):
            problems.add(where, "item without linkId")
            continue
        if link in seen:
            problems.add(at, "duplicate linkId")
        seen[link] = item
        itype = item.get("type")
        if itype not in ITEM_TYPES:
            problems.add(at, f"type {itype!r} is not a FHIR item type")
        if not nonempty_str(item.get("text")):
            problems.add(at, "text is missing or empty")
        if itype == "group":
            if not link.startswith("g-"):
                problems.add(at, "group linkIds must start with 'g-'")
            if not item.get("item"):
                problems.add(at, "empty group")
        elif link.startswith("g-"):
            problems.add(at, "only groups may have linkIds starting with 'g-'")
        elif parent is None:
            problems.add(at, "questions must be inside a group")
        if itype == "choice":
            options = item.get("answerOption") or []
            codes = []
            for opt in options:
                coding = opt.get("valueCoding")
                if not isinstance(coding, dict):
                    problems.add(at, "answerOption without valueCoding")
                    continue
                codes.append(coding.get("code"))
                if coding.get("system") != system:
                    problems.add(at, f"answer system must be {system!r}, is {coding.get('system')!r}")
                if not nonempty_str(coding.get("display")):
                    problems.add(at, f"answer {coding.get('code')!r} has no display")
            if codes != [str(i) for i in range(1, len(codes) + 1)] or not codes:
                problems.add(at, f"answer codes must be '1'..'k' in order, are {codes}")
        elif item.get("answerOption"):
            problems.add(at, f"answerOption on a {itype} item")
        if itype == "integer":
            bounds = {e.get("url"): e.get("valueInteger") for e in item.get("extension") or []}
            lo, hi = bounds.get(MIN_VALUE), bounds.get(MAX_VALUE)
            if not isinstance(lo, int) or not isinstance(hi, int):
                problems.add(at, "integer item needs minValue and maxValue extensions (valueInteger)")
            elif lo > hi:
                problems.add(at, f"minValue {lo} > maxValue {hi}")
        if len(item.get("enableWhen") or []) > 1 and item.get("enableBehavior") not in ("all", "any"):
            problems.add(at, "enableBehavior ('all'/'any') is required with more than one enableWhen")

    # enableWhen targets must exist, come earlier, and fit the target's type and codes.
    order = list(seen)
    for item, _ in walk_items(top):
        link = item.get("linkId")
        for cond in item.get("enableWhen") or []:
            at = f"{where} [{link}] enableWhen"
            target = seen.get(cond.get("question"))
            if target is None:
                problems.add(at, f"refers to unknown linkId {cond.get('question')!r}")
                continue
            if order.index(cond["question"]) >= order.index(link):
                problems.add(at, f"refers to {cond['question']!r}, which does not come before it")
            if cond.get("operator") not in ENABLE_OPERATORS:
                problems.add(at, f"operator {cond.get('operator')!r} is not a FHIR enableWhen operator")
            if "answerCoding" in cond:
                codes = {o["valueCoding"].get("code") for o in target.get("answerOption") or []
                         if isinstance(o.get("valueCoding"), dict)}
                if cond["answerCoding"].get("code") not in codes:
                    problems.add(at, f"answerCoding {cond['answerCoding'].get('code')!r} is not an answer "
                                     f"of {cond['question']!r}")
            if "answerInteger" in cond and target.get("type") != "integer":
                problems.add(at, f"answerInteger, but {cond['question']!r} is {target.get('type')!r}")
    return raw


def check_pack(path: Path, q: dict, problems: Problems) -> None:
    where = str(path)
    try:
        pack = load_json(path)
    except (OSError, ValueError) as e:
        problems.add(where, f"not valid JSON: {e}")
        return
    if not isinstance(pack, dict):
        problems.add(where, "top level is not a JSON object")
        return
    lang = path.stem
    unknown = set(pack) - PACK_KEYS
    if unknown:
        problems.add(where, f"unknown key(s) {sorted(unknown)}")
    if pack.get("instrument") != q.get("id"):
        problems.add(where, f"instrument must be {q.get('id')!r}, is {pack.get('instrument')!r}")
    if pack.get("instrumentVersion") != q.get("version"):
        problems.add(where, f"instrumentVersion must be {q.get('version')!r}, is {pack.get('instrumentVersion')!r}")
    if pack.get("language") != lang:
        problems.add(where, f"language must be {lang!r} (the file name), is {pack.get('language')!r}")
    for key in ("title", "introduction", "source"):
        if not nonempty_str(pack.get(key)):
            problems.add(where, f"{key} is missing or empty")
    if not isinstance(pack.get("official"), bool):
        problems.add(where, "official must be true or false")
    items = pack.get("items")
    if not isinstance(items, dict):
        problems.add(where, "items must be an object keyed by linkId")
        return

    q_items = {it["linkId"]: it for it, _ in walk_items(q.get("item")) if isinstance(it.get("linkId"), str)}
    for link in q_items.keys() - items.keys():
        problems.add(where, f"missing linkId {link!r}")
    for link in items.keys() - q_items.keys():
        problems.add(where, f"unknown linkId {link!r}")

    for link, entry in items.items():
        at = f"{where} [{link}]"
        qi = q_items.get(link)
        if qi is None:
            continue
        if not isinstance(entry, dict):
            problems.add(at, "entry must be an object")
            continue
        extra = set(entry) - PACK_ITEM_KEYS
        if extra:
            problems.add(at, f"unknown key(s) {sorted(extra)}")
        if not nonempty_str(entry.get("text")):
            problems.add(at, "text is missing or empty")
        for key in ("help", "minLabel", "maxLabel", "timeFrame"):
            if key in entry and not nonempty_str(entry[key]):
                problems.add(at, f"{key} is empty")
        if "timeFrame" in entry and qi.get("type") != "group":
            problems.add(at, "timeFrame on a question (only a group's time frame is repeated with its questions)")
        q_options = [o["valueCoding"] for o in qi.get("answerOption") or [] if isinstance(o.get("valueCoding"), dict)]
        if qi.get("type") in ("choice", "open-choice"):
            options = entry.get("options")
            if not isinstance(options, dict):
                problems.add(at, "choice item needs options")
                options = {}
            q_codes = [c.get("code") for c in q_options]
            if list(options) != q_codes:
                missing = [c for c in q_codes if c not in options]
                extra_codes = [c for c in options if c not in q_codes]
                detail = []
                if missing:
                    detail.append(f"missing {missing}")
                if extra_codes:
                    detail.append(f"unknown {extra_codes}")
                if not detail:
                    detail.append(f"order {list(options)} differs from {q_codes}")
                problems.add(at, "option codes do not match the questionnaire: " + ", ".join(detail))
            for code, text in options.items():
                if not nonempty_str(text):
                    problems.add(at, f"option {code!r} has no text")
        elif "options" in entry:
            problems.add(at, f"options on a {qi.get('type')} item")

        if lang == "en":
            if entry.get("text") != qi.get("text"):
                problems.add(at, f"en text {entry.get('text')!r} != questionnaire text {qi.get('text')!r}")
            for c in q_options:
                got = (entry.get("options") or {}).get(c.get("code"))
                if got is not None and got != c.get("display"):
                    problems.add(at, f"en option {c.get('code')!r} {got!r} != display {c.get('display')!r}")

    if lang == "en":
        if pack.get("title") != q.get("title"):
            problems.add(where, f"en title {pack.get('title')!r} != questionnaire title {q.get('title')!r}")
        if "description" in q and pack.get("introduction") != q.get("description"):
            problems.add(where, "en introduction != questionnaire description")


def validate(instruments_dir: Path | str = DEFAULT_DIR, out=sys.stdout) -> list[str]:
    """Check everything under instruments_dir; print one line per file; return the problems found."""
    instruments_dir = Path(instruments_dir)
    problems = Problems()
    files = sorted(instruments_dir.glob("*/questionnaire.json"))
    if not files:
        problems.add(str(instruments_dir), "no */questionnaire.json found")
    for qpath in files:
        before = len(problems.items)
        q = check_questionnaire(qpath, problems)
        print(f"{'ok  ' if len(problems.items) == before else 'FAIL'} {qpath}", file=out)
        text_dir = qpath.parent / "text"
        packs = sorted(text_dir.glob("*.json"))
        for lang in REQUIRED_LANGUAGES:
            if not (text_dir / f"{lang}.json").is_file():
                problems.add(str(text_dir), f"missing text pack {lang}.json")
                print(f"FAIL {text_dir / (lang + '.json')} (missing)", file=out)
        for ppath in packs:
            before = len(problems.items)
            if q is None:
                problems.add(str(ppath), "not checked: its questionnaire could not be read")
            else:
                check_pack(ppath, q, problems)
            print(f"{'ok  ' if len(problems.items) == before else 'FAIL'} {ppath}", file=out)
    return problems.items


def test_questionnaires_and_text_packs():
    directory = os.environ.get("SVAR_INSTRUMENTS_DIR", str(DEFAULT_DIR))
    problems = validate(directory)
    assert not problems, "\n".join(problems)


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else DEFAULT_DIR
    problems = validate(directory)
    for p in problems:
        print(f"ERROR {p}", file=sys.stderr)
    print(f"{len(problems)} problem(s)", file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
