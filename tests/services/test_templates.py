"""Prompt templates: every built-in renders, repository overrides win, the sandbox holds, the CLI lists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gitorch.errors import ConfigError, UsageError
from gitorch.models import Finding, Severity
from gitorch.services.templates import (
    AUDIT_DIMENSIONS,
    TASK_TEMPLATES,
    Templates,
    builtin_dir,
    file_excerpt,
)

REPO = Path(__file__).resolve().parents[2]
FINDING = Finding(
    dimension="security",
    severity="P1",
    description="Password compared with ==",
    file="app/views.py",
    line=12,
    recommendation="Use hmac.compare_digest.",
    rule_id="B105",
)


def _minimal(name: str) -> dict[str, object]:
    if name.startswith("audit_"):
        return {"dimension": name.removeprefix("audit_"), "module_path": "app"}
    variables: dict[str, object] = {"finding": FINDING, "module_path": "app"}
    if name == "develop_feature":
        variables["feature"] = "Rate limiting on the API"
    return variables


def test_the_original_design_templates_are_all_there() -> None:
    names = Templates(None).names()
    assert names == sorted([f"audit_{d}" for d in AUDIT_DIMENSIONS] + list(TASK_TEMPLATES))
    assert builtin_dir() == REPO / "templates"


@pytest.mark.parametrize("name", [f"audit_{d}" for d in AUDIT_DIMENSIONS] + list(TASK_TEMPLATES))
def test_every_template_renders_with_its_minimal_variables(name: str) -> None:
    text = Templates(None).render(name, **_minimal(name))
    assert "{{" not in text and "{%" not in text
    assert "## Constraints" in text
    assert "\n\n\n" not in text


@pytest.mark.parametrize("dimension", AUDIT_DIMENSIONS)
def test_audits_ask_for_the_markdown_format_the_parser_reads(dimension: str) -> None:
    text = Templates(None).render(f"audit_{dimension}", dimension=dimension, module_path="addons/ai")
    assert "**Score:** N/100" in text
    assert "- [P0] SQL query built from user input (app/models/query.py:128)" in text
    assert "## P0 Critical" in text and "addons/ai" in text


def test_audit_example_report_parses_with_the_markdown_parser() -> None:
    from gitorch.plugin.manager import get_plugins

    plugins = get_plugins()
    if "markdown" not in plugins.parsers():
        pytest.skip("the markdown parser plugin is not installed yet")
    text = Templates(None).render("audit_security", dimension="security")
    example = re.search(r"~~~~markdown\n(.*?)~~~~", text, re.S).group(1)  # type: ignore[union-attr]
    result = plugins.parser("markdown").parse(example, dimension="security")
    got = {(f.severity, f.file, f.line) for f in result.findings}
    assert got == {(Severity.P0, "app/models/query.py", 128), (Severity.P1, "app/controllers/auth.py", 67)}


def test_audit_with_a_json_schema_asks_for_json() -> None:
    schema = {"type": "object", "properties": {"findings": {"type": "array"}}, "required": ["findings"]}
    tpl = Templates(None)
    as_dict = tpl.render("audit_backend", dimension="backend", json_schema=schema)
    assert "single JSON object" in as_dict and "**Score:** N/100" not in as_dict
    block = re.search(r"~~~~json\n(.*?)~~~~", as_dict, re.S).group(1)  # type: ignore[union-attr]
    assert json.loads(block) == schema
    as_text = tpl.render("audit_backend", dimension="backend", json_schema=json.dumps(schema))
    assert json.dumps(schema) in as_text
    assert "single JSON object" in tpl.render("audit_backend", dimension="backend", output_format="json")


def test_previous_findings_are_listed_for_a_reaudit() -> None:
    text = Templates(None).render("audit_security", dimension="security", findings=[FINDING])
    assert "- [P1] Password compared with == (app/views.py:12)" in text


def test_fix_prompt_carries_the_finding_excerpt_and_constraints(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("".join(f"line_{i} = {i}\n" for i in range(1, 201)))
    excerpt = file_excerpt(tmp_path, "app/views.py", 12, context=3)
    text = Templates(None).render(
        "fix_finding",
        finding=FINDING,
        file_excerpt=excerpt,
        constraints=["Use .venv/bin/python for scripts."],
        command_prefix="docker compose exec odoo",
        attempt=1,
    )
    assert "Fix this P1 (high) finding" in text
    assert "`app/views.py:12`" in text and "hmac.compare_digest" in text and "B105" in text
    assert "> 12 | line_12 = 12" in text
    assert "line_9 = 9" in text and "line_15 = 15" in text
    assert "line_8 = 8" not in text and "line_16 = 16" not in text  # not the whole module
    assert "`docker compose exec odoo <command>`" in text
    assert "Use .venv/bin/python for scripts." in text
    assert "previous attempt failed" not in text


def test_fix_retry_includes_the_test_failure() -> None:
    text = Templates(None).render("fix_finding", finding=FINDING, attempt=2, test_output="E   assert 1 == 2")
    assert "This is attempt 2" in text and "E   assert 1 == 2" in text
    # the prefix is not repeated when a constraint already names it
    text = Templates(None).render(
        "fix_finding",
        finding=FINDING,
        constraints=["Prefix commands with: dc exec web"],
        command_prefix="dc exec web",
    )
    assert text.count("dc exec web") == 1


def test_required_variables_are_checked() -> None:
    with pytest.raises(UsageError, match="finding"):
        Templates(None).render("fix_finding")
    with pytest.raises(UsageError, match="feature"):
        Templates(None).render("develop_feature", feature="")
    with pytest.raises(UsageError, match="no template named 'audit_nope'"):
        Templates(None).render("audit_nope")


def _override(root: Path, name: str, text: str, directory: str = ".gitorch/templates") -> Path:
    path = root / directory / f"{name}.md.j2"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_repository_overrides_win(tmp_path: Path) -> None:
    path = _override(tmp_path, "audit_security", "Custom audit of {{ module_path }} ({{ dimension }})\n")
    tpl = Templates(tmp_path, ".gitorch/templates")
    assert (
        tpl.render("audit_security", dimension="security", module_path="src")
        == "Custom audit of src (security)\n"
    )
    assert tpl.source("audit_security") == (path, path.read_text())
    origins = {i.name: i.origin for i in tpl.infos()}
    assert origins["audit_security"] == "repository" and origins["audit_backend"] == "built-in"
    # another templates_dir does not see it
    assert "Custom" not in Templates(tmp_path, "prompts").render("audit_security", dimension="security")


def test_overriding_a_partial_changes_every_prompt(tmp_path: Path) -> None:
    _override(tmp_path, "_constraints", "## Constraints\n\n- House rule: never touch legacy/.\n")
    tpl = Templates(tmp_path, ".gitorch/templates")
    for name in ("audit_backend", "fix_finding", "document"):
        assert "House rule: never touch legacy/." in tpl.render(name, **_minimal(name))


def test_a_new_repository_template_is_listed(tmp_path: Path) -> None:
    _override(tmp_path, "audit_licensing", "Check the licences under {{ module_path }}.\n")
    tpl = Templates(tmp_path, ".gitorch/templates")
    assert "audit_licensing" in tpl.names()
    assert tpl.render("audit_licensing") == "Check the licences under ..\n"


def test_misspelt_variable_in_an_override_is_an_error_naming_the_file(tmp_path: Path) -> None:
    _override(tmp_path, "refactor", "Refactor {{ modul_path }}\n")
    with pytest.raises(ConfigError, match=r"refactor.*refactor\.md\.j2.*modul_path"):
        Templates(tmp_path, ".gitorch/templates").render("refactor")


def test_repository_templates_run_in_the_sandbox(tmp_path: Path) -> None:
    _override(tmp_path, "document", "{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    with pytest.raises(ConfigError, match="SecurityError"):
        Templates(tmp_path, ".gitorch/templates").render("document")


# ---------------------------------------------------------------------------------------- excerpts


@pytest.fixture
def source_tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text("".join(f"v{i} = {i}\n" for i in range(1, 31)))
    (tmp_path / ".env").write_text("API_TOKEN=abcdefgh12345678\n")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "pkg" / "link.txt").symlink_to(tmp_path / ".env")
    return tmp_path


def test_excerpt_numbers_and_marks_lines(source_tree: Path) -> None:
    text = file_excerpt(source_tree, "pkg/mod.py", 10, context=2)
    assert text.splitlines() == [
        "   8 | v8 = 8",
        "   9 | v9 = 9",
        "> 10 | v10 = 10",
        "  11 | v11 = 11",
        "  12 | v12 = 12",
    ]
    ranged = file_excerpt(source_tree, "pkg/mod.py", 3, context=1, end_line=4).splitlines()
    assert ranged == ["  2 | v2 = 2", "> 3 | v3 = 3", "> 4 | v4 = 4", "  5 | v5 = 5"]
    assert file_excerpt(source_tree, "pkg/mod.py", 30, context=1).splitlines()[-1] == "> 30 | v30 = 30"
    assert len(file_excerpt(source_tree, "pkg/mod.py", None, context=2).splitlines()) == 5


def test_excerpt_positional_path_form(source_tree: Path) -> None:
    assert file_excerpt(source_tree / "pkg" / "mod.py", 10, 11) == file_excerpt(
        source_tree, "pkg/mod.py", 10, end_line=11
    )


@pytest.mark.parametrize(
    ("file", "reason"),
    [
        (".env", "secret file"),
        ("pkg/link.txt", "secret file"),
        ("../outside.py", "outside the repository"),
        ("blob.bin", "binary"),
        ("pkg/missing.py", "no such file"),
    ],
)
def test_excerpt_refuses(source_tree: Path, file: str, reason: str) -> None:
    (source_tree.parent / "outside.py").write_text("x = 1\n")
    text = file_excerpt(source_tree, file, 1)
    assert reason in text and "abcdefgh12345678" not in text and "x = 1" not in text
    with pytest.raises(UsageError, match=reason):
        file_excerpt(source_tree, file, 1, strict=True)


def test_plugin_directories_come_after_the_repository_and_before_the_built_in(tmp_path: Path) -> None:
    first = _override(tmp_path / "first", "audit_security", "first plugin {{ dimension }}\n", directory=".")
    _override(tmp_path / "second", "audit_security", "second plugin\n", directory=".")
    include = "{% include '_constraints.md.j2' %}licences\n"
    _override(tmp_path / "second", "audit_licences", include, directory=".")
    dirs = [("first", first.parent), ("second", tmp_path / "second"), ("gone", tmp_path / "nowhere")]
    tpl = Templates(tmp_path / "repo", plugin_dirs=dirs)
    assert tpl.render("audit_security").strip() == "first plugin general"
    origins = {i.name: i.origin for i in tpl.infos()}
    assert origins["audit_security"] == "plugin:first" and origins["audit_licences"] == "plugin:second"
    assert origins["audit_tests"] == "built-in" and origins["_constraints"] == "built-in"
    assert "licences" in tpl.render("audit_licences")  # a plugin template includes a built-in partial
    _override(tmp_path / "repo", "audit_security", "the repository's\n")
    again = Templates(tmp_path / "repo", plugin_dirs=dirs)
    assert again.render("audit_security") == "the repository's\n"
    assert again.info("audit_security").origin == "repository"


# ---------------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    _override(root, "fix_finding", "Fix {{ finding.description }} please.\n")
    return root


def _invoke(*args: str):
    from gitorch.cli import app

    return CliRunner().invoke(app, list(args))


def test_cli_lists_templates_with_their_origin(cli_repo: Path) -> None:
    result = _invoke("templates", "--repo", str(cli_repo))
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert (
        "repository" in lines["fix_finding"]
        and ".gitorch/templates/fix_finding.md.j2" in lines["fix_finding"]
    )
    assert "built-in" in lines["audit_security"]
    assert set(Templates(None).names()) <= set(lines)
    data = json.loads(_invoke("templates", "--repo", str(cli_repo), "--json").output)
    assert {"name": "fix_finding", "origin": "repository"}.items() <= data[
        [d["name"] for d in data].index("fix_finding")
    ].items()


def test_cli_show_prints_the_winning_source(cli_repo: Path) -> None:
    result = _invoke("templates", "--repo", str(cli_repo), "--show", "fix_finding")
    assert result.exit_code == 0 and result.output == "Fix {{ finding.description }} please.\n"
    builtin = _invoke("templates", "--repo", str(cli_repo), "--show", "audit_tests")
    assert builtin.output == (REPO / "templates" / "audit_tests.md.j2").read_text()


def test_cli_unknown_template_is_a_one_line_usage_error(cli_repo: Path) -> None:
    result = _invoke("templates", "--repo", str(cli_repo), "--show", "nope")
    assert result.exit_code == 2
    assert "no template named 'nope'" in result.output and len(result.output.strip().splitlines()) == 1


def test_cli_respects_the_configured_templates_dir(cli_repo: Path) -> None:
    (cli_repo / ".gitorch.toml").write_text('templates_dir = "prompts"\n')
    _override(cli_repo, "document", "Docs!\n", directory="prompts")
    result = _invoke("templates", "--repo", str(cli_repo))
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "repository" in lines["document"] and "built-in" in lines["fix_finding"]


# ---------------------------------------------------------------------------------------- installed wheel


@pytest.mark.slow
def test_templates_and_prices_are_found_in_an_installed_wheel(tmp_path: Path) -> None:
    """The wheel force-includes templates/ as gitorch/templates; the lookup must find it there."""
    build = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if build.returncode != 0 and "No module named hatchling" in build.stderr:
        pytest.skip("hatchling is not installed (pip install -e '.[test]')")
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("gitorch-*.whl"))
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "gitorch/templates/audit_security.md.j2" in names
        assert "gitorch/templates/plugin/src/{{ module }}/__init__.py.j2" in names
        assert "gitorch/testing/fakes/fake_agent.py" in names  # the test kit's fake agent CLI
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "[pytest11]\ngitorch = gitorch.testing.pytest_plugin" in archive.read(entry_points).decode()
        assert "gitorch/data/prices.toml" in names
        assert "gitorch/sample/inventory/store.py" in names and "gitorch/sample/tests/test_store.py" in names
        plugins = {"gitorch_local/__init__.py", "gitorch_agents/__init__.py", "gitorch_markdown/__init__.py"}
        assert plugins <= set(names)
        archive.extractall(site)
    probe = (
        "import gitorch, gitorch.services.templates as t, gitorch.services.pricing as p;"
        "print(t.builtin_dir()); print(len(t.Templates(None).names()));"
        "print(p.price_table().lookup('gpt-4o').name);"
        "from gitorch.services.skeleton import plugin_skeleton; print(sorted(plugin_skeleton('x')))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:3] == [str(site / "gitorch" / "templates"), str(len(Templates(None).names())), "gpt-4o"]
    assert "src/gitorch_x/__init__.py" in lines[3] and "tests/test_gitorch_x.py" in lines[3]


def test_a_symlinked_template_cannot_pull_in_a_secret_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("STRIPE_SECRET=short\n")
    directory = tmp_path / ".gitorch" / "templates"
    directory.mkdir(parents=True)
    (directory / "document.md.j2").symlink_to(tmp_path / ".env")
    (directory / "refactor.md.j2").write_text('{% include "leak.md.j2" %}\n')
    (directory / "leak.md.j2").symlink_to(tmp_path / ".env")
    tpl = Templates(tmp_path, ".gitorch/templates")
    for name in ("document", "refactor"):
        with pytest.raises(ConfigError, match="refused"):
            tpl.render(name)


def test_a_dimension_object_fills_name_title_and_description() -> None:
    from gitorch.models import Dimension

    class Licensing(Dimension):
        name = "licensing"
        title = "Licence hygiene"
        description = "Licence headers and third-party licence compatibility."

    text = Templates(None).render("audit_compliance", dimension=Licensing, module_path="src")
    assert "auditing the **Licence hygiene** of the code under `src`" in text
    assert "Licence headers and third-party licence compatibility." in text
