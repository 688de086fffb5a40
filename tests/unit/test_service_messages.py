"""Every message a service can put in front of a person goes through a translation call.

Services raise DomainErrors (shown on pages and in flashes), build Reasons (shown next to
fields) and write emails. This scans their source: prose (a literal with a space in it) handed
to one of those, used as an exception's default message, or kept in a module-level constant
must sit inside ``_``/``n_``/``translate``/``N_``, so a new English-only message fails here.
Text that stays English on purpose says why in a comment starting ``# English:`` on the line
above its statement (or on its line): what only the command line shows, content staff edit,
file formats and protocol headers.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: demo*.py seed the demonstration cycles: their texts are content (like staff-entered projects
#: and residents' ideas) and their summary is printed by the CLI, so they are not scanned
SERVICES = sorted(p for p in (ROOT / "pbvote" / "services").rglob("*.py")
                  if not p.name.startswith("demo"))
#: the pure rules whose reasons services pass on, and the web layer's own refusals
RULES = ROOT / "pbvote" / "rules"
OTHER_SOURCES = sorted((RULES / "ballots").glob("*.py")) + [RULES / f"{name}.py" for name in (
    "eligibility", "paper_audit", "proposals", "roll_csv", "setup", "sign_in")] + sorted(
    (ROOT / "pbvote" / "web").rglob("*.py"))
TRANSLATING = {"_", "n_", "translate", "N_", "gettext", "ngettext", "lazy_gettext", "_l"}
#: exceptions that report programming errors, never shown to a person as such
INTERNAL_ERRORS = {"ValueError", "TypeError", "RuntimeError", "KeyError", "AssertionError",
                   "LookupError", "NotImplementedError"}
#: calls whose text arguments reach a person (besides raised exceptions)
MESSAGE_CALLS = {"Reason", "_reason", "RowError", "_bad_input", "_email_author", "send",
                 "DomainError"}
ENGLISH_MARK = "# English: "


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_prose(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return " " in node.value.strip()
    if isinstance(node, ast.JoinedStr):
        return any(_is_prose(part) for part in node.values)
    return False


def _untranslated_prose(node: ast.AST) -> list[ast.AST]:
    """Prose literals under `node` that are not inside a translation call."""
    found: list[ast.AST] = []

    def visit(child: ast.AST) -> None:
        if isinstance(child, ast.Call) and _name(child.func) in TRANSLATING:
            return
        if isinstance(child, ast.Call) and _name(child.func) in ("join", "format", "repr", "str"):
            for arg in child.args:
                visit(arg)
            visit(child.func)
            return
        if _is_prose(child):
            found.append(child)
            return
        for grandchild in ast.iter_child_nodes(child):
            visit(grandchild)

    visit(node)
    return found


def _exception_classes(tree: ast.Module) -> set[str]:
    known = {"DomainError", "NotFound", "VotingClosed", "NotEligible", "AlreadyVoted",
             "BallotRejected", "ConfigurationFrozen"}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any(_name(b) in known or _name(b).endswith(
                ("Error", "Refused", "Invalid")) for b in node.bases):
            known.add(node.name)
    return known


def untranslated(path: Path) -> list[str]:
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    problems: list[ast.AST] = []

    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            if _name(node.exc.func) not in INTERNAL_ERRORS:
                for arg in [*node.exc.args, *(k.value for k in node.exc.keywords)]:
                    problems += _untranslated_prose(arg)
        elif isinstance(node, ast.Call) and _name(node.func) in MESSAGE_CALLS:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                problems += _untranslated_prose(arg)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("append", "extend") \
                and _name(node.func.value) in ("lines", "reasons", "problems"):
            for arg in node.args:
                problems += _untranslated_prose(arg)
        elif isinstance(node, ast.Assign) and any(_name(t) == "lines" for t in node.targets):
            problems += _untranslated_prose(node.value)
    exceptions = _exception_classes(tree)
    for node in ast.walk(tree):
        # a refusal built first and raised later (`error = Refusal(…)`, then `raise error`)
        if isinstance(node, ast.Call) and _name(node.func) in exceptions:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                problems += _untranslated_prose(arg)
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name in exceptions:
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    for default in [*item.args.defaults, *item.args.kw_defaults]:
                        if default is not None:
                            problems += _untranslated_prose(default)
                    for call in ast.walk(item):
                        if isinstance(call, ast.Call) and _name(call.func) == "__init__":
                            for arg in call.args:
                                problems += _untranslated_prose(arg)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if all(_name(t).isupper() for t in targets):
                problems += _untranslated_prose(node.value)
    statements = [node for node in ast.walk(tree) if isinstance(node, ast.stmt)]
    found = []
    for literal in problems:
        # the innermost statement holding the literal, from the comment line above it
        start = max((s.lineno for s in statements
                     if s.lineno <= literal.lineno <= (s.end_lineno or s.lineno)),
                    default=literal.lineno)
        above = lines[start - 2].strip() if start > 1 else ""
        marked = "\n".join(lines[start - 1:literal.lineno])
        if ENGLISH_MARK in marked or above.startswith(ENGLISH_MARK):
            continue
        text = lines[literal.lineno - 1].strip()
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
        found.append(f"{where}:{literal.lineno}: {text}")
    return sorted(set(found))


@pytest.mark.parametrize("path", SERVICES + OTHER_SOURCES,
                         ids=lambda p: str(p.relative_to(ROOT / "pbvote")))
def test_user_facing_messages_are_translated(path):
    assert untranslated(path) == []


def test_the_scan_finds_an_untranslated_message(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from pbvote.i18n_hook import N_, _\n"
        "class Refused(DomainError):\n"
        "    def __init__(self, message='Not possible now.'):\n"
        "        super().__init__(message)\n"
        "GREETING = 'Hello there'\n"
        "FIELD = 'title'\n"
        "def act(x):\n"
        "    lines = [f'Your idea #{x}:', _('Translated %(x)s', x=x)]\n"
        "    if x:\n"
        "        raise DomainError(f'Idea {x} is closed.', 409)\n"
        "    if not x:\n"
        "        raise NotFound(_('There is no idea %(x)s.', x=x))\n"
        "    reasons.append(Reason('title', 'too_long', 'The title is too long.'))\n"
        "    raise ValueError(f'bad value {x!r}')\n")
    found = untranslated(sample)
    assert [entry.split(":")[1] for entry in found] == ["10", "13", "3", "5", "8"]


def test_a_marked_english_text_is_let_through(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("# English: the CSV header other tools read\n"
                      "HEADER = 'last name, date of birth'\n"
                      "def act():\n"
                      "    raise DomainError('Not possible now.')  # English: CLI only\n"
                      "    raise DomainError('Not possible either.')\n")
    assert [entry.split(":")[1] for entry in untranslated(sample)] == ["5"]
