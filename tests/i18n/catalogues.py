"""Shared helpers for the language tests: extraction exactly as the README's command does it."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "pbvote" / "translations"
KEYWORDS = ["-k", "_l", "-k", "lazy_gettext", "-k", "n_:1,2"]
#: Sources of the resident path: what a resident sees from the start page to the receipt,
#: the bulletin board, the results page (with the count's explanation) and the idea board,
#: the refusals and emails they can bring; Chinese must cover all of it.
RESIDENT_PATH = [
    "python: pbvote/ballots.py", "python: pbvote/proposal_rules.py",
    "python: pbvote/results_view.py", "python: pbvote/eligibility.py",
    "python: pbvote/services/resident_auth.py", "python: pbvote/sign_in_rules.py",
    "python: pbvote/web/__init__.py", "python: pbvote/web/filters.py",
    "python: pbvote/web/vote.py", "python: pbvote/web/public.py", "python: pbvote/web/board.py",
    "python: pbvote/web/results.py", "python: pbvote/web/ideas.py",
    "python: pbvote/web/my_ideas.py", "python: pbvote/web/resident_auth.py",
    "python: pbvote/forms/vote.py", "python: pbvote/tally/explain.py",
    "python: pbvote/tally/registry.py", "python: pbvote/services/errors.py",
    "python: pbvote/services/cycles.py", "python: pbvote/services/voting.py",
    "python: pbvote/services/proposals.py", "python: pbvote/services/images.py",
    "jinja2: templates/base.html", "jinja2: templates/macros.html",
    "jinja2: templates/errors/**.html", "jinja2: templates/public/**.html",
    "jinja2: templates/vote/**.html", "jinja2: templates/board/**.html",
    "jinja2: templates/results/**.html", "jinja2: templates/ideas/**.html",
    "jinja2: templates/my_ideas/**.html", "jinja2: templates/resident_auth/**.html",
    "jinja2: templates/kiosk/**.html",
]


def message_key(message_id: str | tuple | list) -> str:
    return message_id[0] if isinstance(message_id, (tuple, list)) else message_id


def extract(tmp_path: Path, config: Path) -> set[str]:
    target = tmp_path / f"{config.stem}.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(config),
                    *KEYWORDS, "--no-location", "-o", str(target), str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    with target.open("rb") as handle:
        return {message_key(m.id) for m in read_po(handle) if m.id}


def resident_config(tmp_path: Path) -> Path:
    config = tmp_path / "resident.cfg"
    config.write_text("".join(f"[{line}]\n" for line in RESIDENT_PATH))
    return config


def load_po(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def load_mo(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as handle:
        return read_mo(handle)


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
