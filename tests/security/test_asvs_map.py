"""ASVS 4.0.3 V1.14.x/V14.1.x (the security requirements are verified by tests): the map in
tests/security/README.md names only tests that exist, and every module of this suite names
the ASVS requirements it proves."""
from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO_ROOT

README = Path(__file__).with_name("README.md")
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
ISSUE_ITEMS = ("route × role", "IDOR", "CSRF", "through GET", "XSS", "SQL-injection",
               "Open redirect", "Session cookies", "New session id", "Logout", "rate limits",
               "TOTP replay", "One-time codes", "Security headers", "Upload", "Logs",
               "fuzzing")


def test_every_referenced_test_exists():
    text = README.read_text(encoding="utf-8")
    references = REFERENCE.findall(text)
    assert len(references) > 60
    missing = [f"{path}::{name}" for path, name in references
               if not (REPO_ROOT / path).is_file()
               or not re.search(rf"^def {name}\(", (REPO_ROOT / path).read_text(encoding="utf-8"),
                                re.MULTILINE)]
    assert not missing, f"README.md names tests that do not exist: {missing}"


def test_every_issue_item_has_a_row_with_asvs_ids_and_tests():
    rows = [line for line in README.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and not line.startswith("| Issue item")]
    for item in ISSUE_ITEMS:
        row = next((r for r in rows if item.lower() in r.lower()), None)
        assert row is not None, f"no row for {item!r}"
        assert re.search(r"V\d+\.\d+\.(\d+|x)", row) and "::test_" in row or "log_capture" in row


def test_every_module_here_names_its_asvs_requirements():
    for module in sorted(Path(__file__).parent.glob("*.py")):
        if module.name in ("__init__.py", "helpers.py"):
            continue
        head = module.read_text(encoding="utf-8")[:600]
        assert re.search(r"ASVS 4\.0\.3 V\d+\.\d+", head), f"{module.name} names no ASVS id"
