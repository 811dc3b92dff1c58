"""Runs e2e/check_i18n.py: the UI text packs agree, and no template or text holds sensitive words or inline code."""
import subprocess
import sys
from pathlib import Path


def test_ui_texts_and_templates_pass_the_checks():
    script = Path(__file__).with_name("check_i18n.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check_i18n: ok" in result.stdout
