"""What docs/operations.md tells an IT team to run or read exists: every `pbvote` command and
its options, every file under config/ and tests/, every environment variable, every route
and every metric it names. A guide that drifts from the code fails here."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "operations.md"


def _code(text: str) -> list[str]:
    """The guide's code: fenced blocks (one item per line) and inline `spans`."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    rest = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    # a shell line continued with a backslash is one command
    joined = "\n".join(lines).replace("\\\n", " ").splitlines()
    return joined + re.findall(r"`([^`\n]+)`", rest.replace("\n", " "))


@pytest.fixture(scope="module")
def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cli_commands():
    from pbvote import create_app

    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://")
    return app, app.cli.commands


def _pbvote_invocations(guide: str) -> list[tuple[str, list[str]]]:
    found = []
    for snippet in _code(guide):
        # the program, not the user or database of that name: at the start, after a path,
        # `&&` or an assignment (VAR=value pbvote …)
        for match in re.finditer(r"(?:^|&&\s+|bin/|=\S+\s+)pbvote ([a-z][a-z-]*)"
                                 r"((?: +[^|;&]*)?)", snippet):
            options = re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", match.group(2))
            found.append((match.group(1), options))
    return found


def test_the_guide_names_pbvote_commands(guide):
    named = {command for command, _options in _pbvote_invocations(guide)}
    # the parser finds them: a guide without these would make the other checks vacuous
    assert {"init-db", "backup", "restore", "upgrade"} <= named, named


def test_every_pbvote_command_and_option_in_the_guide_exists(guide, cli_commands):
    _app, commands = cli_commands
    for command, options in _pbvote_invocations(guide):
        assert command in commands, f"the guide runs `pbvote {command}`, which does not exist"
        known = {opt for param in commands[command].params for opt in param.opts}
        for option in options:
            assert option in known, f"`pbvote {command}` has no option {option}"


def test_every_file_the_guide_names_exists(guide):
    paths = set(re.findall(r"(?<![\w/.-])((?:config|tests|docs|migrations|pbvote)/[\w./-]+"
                           r"\.(?:py|conf|service|md))", guide))
    assert any(p.startswith("config/") for p in paths) and any(
        p.startswith("tests/") for p in paths)
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    # a test named by its file name only, next to a full path in the same table cell
    for name in re.findall(r"`(test_[a-z_]+\.py)`", guide):
        if not list((ROOT / "tests").rglob(name)):
            missing.append(name)
    assert missing == []


def test_every_environment_variable_the_guide_names_is_read(guide):
    sources = "\n".join(p.read_text(encoding="utf-8") for p in [
        *(ROOT / "pbvote").rglob("*.py"), *(ROOT / "config").glob("*")] if p.is_file())
    named = set(re.findall(r"\b(PBVOTE_[A-Z_]+|PROMETHEUS_MULTIPROC_DIR)\b", guide))
    assert "PBVOTE_IDENTITY_KEY" in named
    unread = sorted(name for name in named if f'"{name}"' not in sources
                    and f"{name}=" not in sources)
    assert unread == [], "named in the guide, read nowhere"


def test_every_route_and_metric_the_guide_names_exists(guide, cli_commands):
    app, _commands = cli_commands
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for route in set(re.findall(r"`(?:GET )?(/(?:healthz|readyz|metrics))", guide)):
        assert route in rules, route
    metrics = (ROOT / "pbvote" / "infra" / "metrics.py").read_text(encoding="utf-8")
    named = set(re.findall(r"`(pbvote_[a-z_]+)", guide))
    assert "pbvote_jobs_queue_depth" in named
    for metric in named:
        base = re.sub(r"_(total|seconds)$", "", metric)
        assert f'"{metric}"' in metrics or f'"{base}' in metrics, metric
