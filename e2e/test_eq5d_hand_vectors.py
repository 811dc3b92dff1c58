"""Collects e2e/eq5d_hand_vectors.py: the HAND tables agree with docs/scoring.md and with the value-set files on
every state, the published anchors hold, and Tests/SvarInstrumentsTests/Vectors/eq5d.json is up to date."""
from __future__ import annotations

import contextlib
import io

import eq5d_hand_vectors


def test_eq5d_hand_vectors_all_checks():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = eq5d_hand_vectors.main([])  # no --write: checks only, never rewrites the vector file
    assert status == 0, out.getvalue()[-4000:]
    assert "all checks passed" in out.getvalue()
