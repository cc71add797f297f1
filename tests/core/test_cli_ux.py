"""What a new user meets first: version, help, completion, colour, files written, messages."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import typer

from gitorch.testing.fixtures import commit
from gitorch.testing.terminal import run_in_terminal

GITORCH = str(Path(sys.executable).parent / "gitorch")
ESC = "\x1b["


@pytest.fixture
def repo(git_repo) -> Path:
    commit(git_repo, {"app/main.py": "import subprocess\nsubprocess.call('ls', shell=True)\n"}, "app")
    return Path(git_repo.working_tree_dir)


@pytest.mark.parametrize("args", [["--version"], ["-V"], ["version"]])
def test_version_three_ways(cli, args):
    from gitorch import __version__

    result = cli(*args)
    assert result.exit_code == 0 and result.stdout.strip() == f"gitorch {__version__}"


def _commands() -> list[str]:
    from typer.main import get_command

    from gitorch.cli import app
    from gitorch.cli.lazy import COMMANDS

    group = get_command(app)
    ctx = typer.Context(group)
    commands = []
    for name in sorted(COMMANDS):  # built-in commands load on demand (gitorch.cli.lazy)
        command = group.get_command(ctx, name)
        commands.append(name)
        commands += [f"{name} {sub}" for sub in getattr(command, "commands", {})]  # a group's commands
    return sorted(commands)


@pytest.mark.parametrize("command", _commands())
def test_every_help_has_an_example_and_no_bool_placeholder(cli, command):
    result = cli(*command.split(), "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.stdout, f"gitorch {command} --help shows no example"
    assert "<bool>" not in result.stdout


def test_root_help_has_no_bool_placeholder_and_offers_completion(cli):
    text = cli("--help", env={"COLUMNS": "200"}).stdout
    assert "<bool>" not in text and "--install-completion" in text and "-V" in text


def test_shell_completion_completes_commands(tmp_path):
    script = subprocess.run([GITORCH, "--show-completion", "bash"], capture_output=True, text=True)
    assert script.returncode == 0 and "_GITORCH_COMPLETE" in script.stdout
    env = {**os.environ, "_GITORCH_COMPLETE": "complete_bash", "COMP_WORDS": "gitorch au", "COMP_CWORD": "1"}
    completed = subprocess.run([GITORCH], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert completed.stdout.split() == ["audit"]


def test_errors_are_red_on_a_terminal_and_plain_with_no_color(repo):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = run_in_terminal([GITORCH, "audit", "--dim", "nope"], cwd=repo, env=env, timeout=60)
    assert coloured.exit_code == 2 and "unknown dimension" in coloured.text and ESC in coloured.text
    plain = run_in_terminal([GITORCH, "audit", "--dim", "nope"], cwd=repo, env={**env, "NO_COLOR": "1"})
    assert plain.exit_code == 2 and "unknown dimension" in plain.text and ESC not in plain.text


def test_audit_table_honours_no_color_on_a_terminal(repo):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = run_in_terminal([GITORCH, "audit", "--dim", "security"], cwd=repo, env=env, timeout=120)
    assert coloured.exit_code == 0 and ESC in coloured.text
    plain = run_in_terminal([GITORCH, "audit", "--dim", "security"], cwd=repo, env={**env, "NO_COLOR": "1"})
    assert plain.exit_code == 0 and "B602" in plain.text
    assert "\x1b[3" not in plain.text and "\x1b[1m" not in plain.text  # no colour, no bold


def test_output_files_get_the_mode_of_an_ordinary_file(cli, repo, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "audit.json"
        assert cli("audit", "--dim", "security", "-f", "json", "-o", str(out), "-C", str(repo)).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        out.chmod(0o640)  # an existing file keeps its mode
        assert cli("audit", "--dim", "security", "-f", "json", "-o", str(out), "-C", str(repo)).exit_code == 0
        assert stat.S_IMODE(out.stat().st_mode) == 0o640
    finally:
        os.umask(old)


def _keys(model_cls, prefix: str = "") -> set[str]:
    from pydantic import BaseModel

    keys = set()
    for name, info in model_cls.model_fields.items():
        if info.exclude:
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= _keys(annotation, f"{prefix}{name}.")
        else:
            keys.add(f"{prefix}{name}")
    return keys


def test_init_writes_every_key_with_its_default(cli, repo):
    from gitorch.config import Config

    assert cli("init", "-C", str(repo)).exit_code == 0
    text = (repo / ".gitorch.toml").read_text()
    written = tomllib.loads(text)
    assert Config.model_validate(written).model_dump() == Config().model_dump()
    uncommented = "\n".join(line.lstrip("# ") for line in text.splitlines())
    for key in sorted(_keys(Config)):
        section, _, leaf = key.rpartition(".")
        if section:
            assert f"[{section}]" in text or f"[{section}." in uncommented, f"[{section}] missing"
        written_as = (f"{leaf} =", f"[{leaf}", f"[{key}]")  # a key, a table of its own, or a sub-table
        assert any(form in uncommented for form in written_as), f"{key} missing from gitorch init"


def test_parse_of_a_directory_says_it_is_a_directory(cli, tmp_path):
    result = cli("parse", str(tmp_path))
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_fail_under_says_which_score_is_under(cli, repo):
    score = json.loads(cli("audit", "--dim", "security", "-f", "json", "-C", str(repo)).stdout)["score"]
    assert score < 100
    result = cli("audit", "--dim", "security", "--fail-under", "100", "-C", str(repo))
    assert result.exit_code == 1
    assert f"under --fail-under 100: security {score:g}" in result.stderr


def test_all_says_which_dimensions_it_skips(cli, repo):
    result = cli("audit", "--all", "-f", "json", "-C", str(repo))
    assert result.exit_code == 0, result.output
    audited = {r["dimension"] for r in json.loads(result.stdout)}
    assert "compliance" not in audited
    assert "--all skips compliance, frontend" in result.stderr


def test_fix_explains_what_chooses_the_auditor_when_agent_is_given(cli, repo):
    result = cli("fix", "--dim", "compliance", "--agent", "codex", "-C", str(repo))
    assert result.exit_code == 2
    assert "use --agent NAME" not in result.stderr
    assert "--agent chooses the agent that fixes" in result.stderr
    assert '[routing.compliance] audit = ["codex"]' in result.stderr


def test_gitorch_command_names_the_script_that_runs_when_it_is_not_on_path(tmp_path):
    code = (
        "import sys; sys.argv[0] = sys.argv[1]; "
        "from gitorch.cli._common import gitorch_command; print(gitorch_command())"
    )
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code, GITORCH], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == GITORCH
    on_path = {**os.environ, "PATH": f"{Path(GITORCH).parent}:/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code, GITORCH], capture_output=True, text=True, env=on_path)
    assert out.stdout.strip() == "gitorch"


def test_no_command_writes_colour_codes_itself():
    """Colour goes through rich (which reads NO_COLOR) or through a `color=` that says whether it may."""
    root = Path(__file__).resolve().parents[2] / "gitorch" / "cli"
    for module in root.glob("*.py"):
        for n, line in enumerate(module.read_text().splitlines(), 1):
            if "typer.secho(" in line or "typer.style(" in line:
                call = "\n".join(module.read_text().splitlines()[n - 1 : n + 6])
                assert "color=" in call, f"{module.name}:{n} colours without asking color_enabled()"
