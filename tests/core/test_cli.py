import hashlib
import json
import os
from pathlib import Path

import pytest

from gitorch import Agent, AuditResult, Finding, hookimpl
from gitorch.plugin.manager import get_plugins


class Tidy(Agent):
    name = "tidy"
    audits = frozenset({"backend", "security"})

    def audit(self, request):
        findings = []
        for path in sorted((request.root / request.path).rglob("*.py")):
            rel = path.relative_to(request.root).as_posix()
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if "eval(" in line:
                    findings.append(
                        Finding(
                            dimension=request.dimension.name,
                            severity="P1",
                            rule_id="eval",
                            file=rel,
                            line=n,
                            description="eval is dangerous",
                            snippet=line,
                        )
                    )
        return AuditResult(dimension=request.dimension.name, agent=self.name, findings=findings)


class TidyPlugin:
    @hookimpl
    def gitorch_agents(self):
        return [Tidy]


@pytest.fixture
def tidy(monkeypatch):
    from gitorch import cli

    plugins = get_plugins()
    plugins.pm.register(TidyPlugin(), name="tidy")
    monkeypatch.setattr(cli, "get_app_plugins", lambda: plugins)
    return plugins


@pytest.fixture
def project(git_repo):
    from gitorch.testing.fixtures import commit

    commit(git_repo, {"app/main.py": "x = eval(input())\n", "app/ok.py": "y = 1\n"}, "app")
    return Path(git_repo.working_tree_dir)


def snapshot(root: Path) -> dict[str, str]:
    """Hash of every file under root, .git included (index, refs, config)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_audit_json_round_trips_and_scores(cli, tidy, project):
    result = cli("audit", "--dim", "backend", "--agent", "tidy", "--format", "json", "--repo", str(project))
    assert result.exit_code == 0, result.output
    parsed = AuditResult.model_validate_json(result.stdout)
    assert parsed.counts["P1"] == 1 and parsed.findings[0].location == "app/main.py:1"
    assert parsed.score == 78.1 and parsed.loc == 2  # one P1 in 2 lines: 60 + 19·100/105


def test_audit_several_dimensions_and_markdown_output_file(cli, tidy, project, tmp_path):
    out = tmp_path / "report.md"
    result = cli(
        "audit",
        "-d",
        "backend",
        "-d",
        "security",
        "--agent",
        "tidy",
        "-f",
        "markdown",
        "-o",
        str(out),
        "-C",
        str(project),
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.count("**Score:** 78.1/100") == 2 and "app/main.py:1" in text


def test_fail_under_exits_1(cli, tidy, project):
    assert (
        cli(
            "audit", "--dim", "backend", "--agent", "tidy", "--fail-under", "80", "-C", str(project)
        ).exit_code
        == 1
    )
    assert (
        cli(
            "audit", "--dim", "backend", "--agent", "tidy", "--fail-under", "70", "-C", str(project)
        ).exit_code
        == 0
    )


def test_audit_of_a_subdirectory_only_sees_that_subdirectory(cli, tidy, project):
    import git

    from gitorch.testing.fixtures import commit

    commit(git.Repo(project), {"lib/x.py": "eval('1')\n"}, "lib")
    result = cli("audit", "-d", "backend", "-a", "tidy", "-f", "json", "--path", "lib", "-C", str(project))
    assert [f["file"] for f in json.loads(result.stdout)["findings"]] == ["lib/x.py"]


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--dim", "nope"], "unknown dimension 'nope'", 2),
        (["--dim", "backend", "--agent", "nobody"], "unknown agent 'nobody'", 2),
        (["--dim", "compliance", "--agent", "tidy"], "agent 'tidy' cannot audit 'compliance'", 2),
        (["--dim", "backend", "--agent", "tidy", "--path", "../.."], "is outside the repository", 2),
        (["--dim", "backend", "--agent", "tidy", "--path", "missing"], "does not exist", 2),
        (["--dim", "backend", "--agent", "tidy", "--format", "yaml"], "unknown format 'yaml'", 2),
        (["--dim", "backend", "--all"], "use --dim or --all", 2),
        (["--dim", "backend", "--agent", "tidy", "--fail-under", "120"], "--fail-under must be between", 2),
    ],
)
def test_bad_input_is_one_line_with_a_distinct_exit_code_and_changes_nothing(
    cli, tidy, project, args, message, code
):
    before = snapshot(project)
    result = cli("audit", *args, "-C", str(project))
    assert result.exit_code == code
    assert result.stderr.strip().count("\n") == 0 and message in result.stderr
    assert snapshot(project) == before


def test_not_a_git_repository(cli, tidy, tmp_path):
    result = cli("audit", "--dim", "backend", "-C", str(tmp_path))
    assert result.exit_code == 2 and "is not inside a git repository" in result.stderr


def test_bad_config_file_is_a_usage_error(cli, tidy, project):
    (project / ".gitorch.toml").write_text("max_iteratons = 2\n")
    result = cli("audit", "--dim", "backend", "-a", "tidy", "-C", str(project))
    assert result.exit_code == 2 and "max_iteratons: unknown key" in result.stderr


def test_agent_error_exits_3(cli, tidy, project, monkeypatch):
    def boom(self, request):
        raise RuntimeError("analyzer crashed")

    monkeypatch.setattr(Tidy, "audit", boom)
    result = cli("audit", "--dim", "backend", "-a", "tidy", "-C", str(project))
    assert (
        result.exit_code == 3
        and "agent 'tidy' failed auditing 'backend': RuntimeError: analyzer crashed" in result.stderr
    )


def test_listing_commands_have_json(cli, tidy):
    plugins = json.loads(cli("plugins", "--json").stdout)
    assert {"dimensions", "markdown"} <= {p["name"] for p in plugins["plugins"]}
    agents = {a["name"]: a for a in json.loads(cli("agents", "--json").stdout)["agents"]}
    assert agents["tidy"]["available"] is True and agents["tidy"]["audits"] == ["backend", "security"]
    dims = {d["name"]: d for d in json.loads(cli("dimensions", "--json").stdout)["dimensions"]}
    assert "tidy" in dims["backend"]["agents"] and "tidy" not in dims["compliance"]["agents"]


def test_plugins_lists_a_broken_plugin_with_its_error(cli, monkeypatch):
    from importlib.metadata import EntryPoint

    import gitorch.plugin.manager as plugins_module

    real = plugins_module.entry_points

    class Broken(EntryPoint):
        def load(self):
            raise ImportError("cannot import name 'x'")

    monkeypatch.setattr(
        plugins_module,
        "entry_points",
        lambda group: [*real(group=group), Broken("broken", "nowhere", "gitorch")],
    )
    monkeypatch.delenv("GITORCH_LOAD_PLUGINS")
    data = json.loads(cli("plugins", "--json").stdout)
    assert data["failed"][0]["name"] == "broken" and "cannot import name" in data["failed"][0]["error"]
    assert any(p["name"] == "dimensions" for p in data["plugins"])


def test_init_writes_a_starter_config_once(cli, git_repo):
    root = Path(git_repo.working_tree_dir)
    assert cli("init", "-C", str(root)).exit_code == 0
    assert "max_budget_usd = 5.00" in (root / ".gitorch.toml").read_text()
    again = cli("init", "-C", str(root))
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_parse_command_reads_a_report(cli, tmp_path):
    report = tmp_path / "r.md"
    report.write_text(
        "# Audit\n\n**Score:** 75/100\n\n## Critical (P0)\n\n- [P0] SQL injection (app/db.py:12)\n"
    )
    result = cli("parse", str(report), "--json", "--dim", "security")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["score"] == 75 and data["score_scale"] == 100
    assert data["findings"][0]["severity"] == "P0" and data["findings"][0]["file"] == "app/db.py"
    assert data["findings"][0]["line"] == 12


def test_parse_missing_file_is_one_line(cli, tmp_path):
    result = cli("parse", str(tmp_path / "none.md"))
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_help_and_module_entry_point(tmp_path):
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "gitorch", "--help"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "audit" in out.stdout


def test_dimension_without_a_local_auditor_names_the_agents_that_can(cli, tidy, project):
    result = cli("audit", "--dim", "compliance", "-C", str(project))
    assert result.exit_code == 2
    assert "the default agent 'local' has no auditor for 'compliance'; agents that can:" in result.stderr
