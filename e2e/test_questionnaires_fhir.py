"""Collects e2e/validate_questionnaires.py: every Questionnaire parses as FHIR R4B (fhir.resources) and follows
instruments/README.md, and every text pack matches its questionnaire."""
from __future__ import annotations

import io
import json
import shutil

import validate_questionnaires as vq


def test_questionnaires_and_text_packs():
    out = io.StringIO()
    problems = vq.validate(vq.DEFAULT_DIR, out=out)
    assert not problems, "\n".join(problems)
    checked = out.getvalue().splitlines()
    # 4 questionnaires + 3 text packs each
    assert len([l for l in checked if l.startswith("ok")]) == 16, out.getvalue()


def test_validator_catches_a_broken_pack(tmp_path):
    """The validator itself must be able to fail: a text pack with an unknown linkId is reported."""
    copy = tmp_path / "instruments"
    shutil.copytree(vq.DEFAULT_DIR, copy)
    pack_path = copy / "eq5d-5l" / "text" / "nb.json"
    pack = json.loads(pack_path.read_text(encoding="utf-8"))
    pack["items"]["ZZ"] = {"text": "x"}
    pack_path.write_text(json.dumps(pack, ensure_ascii=False), encoding="utf-8")
    problems = vq.validate(copy, out=io.StringIO())
    assert any("ZZ" in p for p in problems), problems
