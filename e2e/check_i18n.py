#!/usr/bin/env python3
"""Checks the UI's text packs and templates (web/i18n, web/templates, web/static).

- web/i18n/{nb,nn,en}.json (the patient pages) and web/i18n/clinician-{nb,nn,en}.json (the clinician pages)
  are flat objects of non-empty strings, each set with identical keys, and no value holds a mustache tag
  (the server renders the templates, not the strings);
- every {{t.key}} a template uses exists in its text packs (clinician-*.mustache: the clinician packs);
- no patient UI text, template or stylesheet names a diagnosis, a unit or a kind of treatment (the patient may
  be reading on a shared phone; see the list of words below, matched case-insensitively as whole words);
- templates carry no inline style or script (the CSP is style-src 'self' and there is no script at all)
  and no unescaped mustache ({{{x}}} or {{& x}}) but the charts' {{{svg}}}, which ResultChart escapes itself;
- every page template starts with the header partial and ends with the footer partial.

Usage: python3 e2e/check_i18n.py [WEB_DIR]   (default: web/ next to this folder). Exits 1 on problems.
Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

LANGUAGES = ("nb", "nn", "en")
PARTIALS = {"header", "footer"}
PAGES = {"landing", "step", "review", "thanks", "message", "secondfactor", "accessibility", "rights", "refusal-confirm", "refusal-done"}

# Words that would tell an onlooker why the patient is being asked. Whole words, case-insensitive;
# the stems cover inflections and compounds that start with them (avhengighet, psykiatrisk, diagnosen…).
SENSITIVE = re.compile(
    r"\b("
    r"rus|rusen|ruse[nt]|rusmid\w*|rusbehandl\w*|ruslidel\w*|rusproblem\w*|rusmisbruk\w*|rusavhengig\w*"
    r"|avhengig\w*"
    r"|psykiatri\w*"
    r"|diagnose\w*|diagnos[ei]s\w*"
    r"|kvarus\w*|tsb"
    r"|addict\w*|psychiatr\w*|substance"
    r")\b",
    re.IGNORECASE,
)

FORBIDDEN_MARKUP = [
    (re.compile(r"\bstyle\s*=", re.IGNORECASE), "inline style attribute"),
    (re.compile(r"<\s*script", re.IGNORECASE), "<script>"),
    (re.compile(r"<\s*style", re.IGNORECASE), "<style>"),
    (re.compile(r"\bon[a-z]+\s*=", re.IGNORECASE), "inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
    # {{{svg}}} alone is allowed: the charts' SVG, written by ResultChart, which escapes every text itself.
    (re.compile(r"\{\{\{(?!svg\}\}\})"), "unescaped {{{…}}}"),
    (re.compile(r"\{\{\s*&"), "unescaped {{& …}}"),
]

T_KEY = re.compile(r"\{\{\s*[#^/]?\s*t\.([A-Za-z0-9_]+)\s*\}\}")


def line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def read_packs(web: Path, prefix: str, sensitive: bool) -> tuple[dict[str, dict], list[str]]:
    """web/i18n/<prefix><lang>.json for every language, and what is wrong with them. The sensitive-word rule is
    for what patients read; the clinician packs name the registry and its roles."""
    problems: list[str] = []
    packs: dict[str, dict] = {}
    for lang in LANGUAGES:
        path = web / "i18n" / f"{prefix}{lang}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(f"{path}: missing")
            continue
        except json.JSONDecodeError as error:
            problems.append(f"{path}: not valid JSON: {error}")
            continue
        if not isinstance(data, dict):
            problems.append(f"{path}: must be a JSON object")
            continue
        for key, value in data.items():
            if not isinstance(value, str):
                problems.append(f"{path}: {key}: must be a string (the object is flat)")
            elif not value.strip():
                problems.append(f"{path}: {key}: empty")
            elif "{{" in value or "}}" in value:
                problems.append(f"{path}: {key}: holds a mustache tag; split it into two keys")
            elif sensitive:
                for match in SENSITIVE.finditer(value):
                    problems.append(f"{path}: {key}: sensitive word '{match.group(0)}'")
        packs[lang] = data

    if packs:
        all_keys = set().union(*(set(p) for p in packs.values()))
        for lang, data in packs.items():
            missing = sorted(all_keys - set(data))
            if missing:
                problems.append(f"i18n/{prefix}{lang}.json: missing keys: {', '.join(missing)}")
    return packs, problems


def check(web: Path) -> list[str]:
    problems: list[str] = []

    # Text packs
    packs, problems_in_packs = read_packs(web, "", sensitive=True)
    clinician_packs, problems_in_clinician_packs = read_packs(web, "clinician-", sensitive=False)
    problems += problems_in_packs + problems_in_clinician_packs
    common_keys = set.intersection(*(set(p) for p in packs.values())) if packs else set()
    clinician_keys = set.intersection(*(set(p) for p in clinician_packs.values())) if clinician_packs else set()

    # Templates
    templates_dir = web / "templates"
    templates = sorted(templates_dir.glob("*.mustache"))
    names = {path.stem for path in templates}
    for expected in sorted((PARTIALS | PAGES) - names):
        problems.append(f"{templates_dir}/{expected}.mustache: missing")
    for path in templates:
        text = path.read_text(encoding="utf-8")
        for pattern, what in FORBIDDEN_MARKUP:
            for match in pattern.finditer(text):
                problems.append(f"{path}:{line_of(text, match.start())}: {what}")
        for match in SENSITIVE.finditer(text):
            problems.append(f"{path}:{line_of(text, match.start())}: sensitive word '{match.group(0)}'")
        clinician = path.stem.startswith("clinician-")
        for match in T_KEY.finditer(text):
            if clinician and clinician_packs and match.group(1) not in clinician_keys:
                problems.append(f"{path}:{line_of(text, match.start())}: t.{match.group(1)} is not in every clinician text pack")
            elif not clinician and packs and match.group(1) not in common_keys:
                problems.append(f"{path}:{line_of(text, match.start())}: t.{match.group(1)} is not in every text pack")
        if path.stem in PAGES:
            stripped = text.strip()
            if not re.match(r"\{\{>\s*header\s*\}\}", stripped):
                problems.append(f"{path}: must start with {{{{> header}}}}")
            if not re.search(r"\{\{>\s*footer\s*\}\}$", stripped):
                problems.append(f"{path}: must end with {{{{> footer}}}}")

    # Static files: no sensitive words (comments included), no external resources
    for path in sorted((web / "static").rglob("*")):
        if path.is_file() and path.suffix in {".css", ".html", ".txt", ".svg"}:
            text = path.read_text(encoding="utf-8")
            for match in SENSITIVE.finditer(text):
                problems.append(f"{path}:{line_of(text, match.start())}: sensitive word '{match.group(0)}'")
            for match in re.finditer(r"@import|url\(\s*['\"]?(https?:)?//", text):
                problems.append(f"{path}:{line_of(text, match.start())}: external resource")

    return problems


def main(argv: list[str]) -> int:
    web = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "web"
    problems = check(web)
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_i18n: {len(problems)} problem(s) in {web}")
        return 1
    print(f"check_i18n: ok ({web})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
