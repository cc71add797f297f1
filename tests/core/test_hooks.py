"""The contract: every hook is documented, and every hook has a test named after it (datasette's rule)."""

import inspect
import pathlib
import re

import pytest

from gitorch import hookspecs

HOOKS = sorted(name for name, fn in vars(hookspecs).items() if name.startswith("gitorch_") and callable(fn))
TESTS = "\n".join(p.read_text() for p in pathlib.Path(__file__).resolve().parents[1].rglob("test_*.py"))


def test_there_are_registration_and_command_hooks():
    assert {"gitorch_agents", "gitorch_dimensions", "gitorch_parsers", "gitorch_add_commands"} <= set(HOOKS)


def test_every_hook_has_a_docstring_with_an_example_or_parameters():
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc.splitlines()) >= 5, f"{name} is not documented"
        assert "Example::" in doc or ":param" in doc, f"{name} has neither an example nor parameters"


def test_every_hook_has_a_test_named_after_it():
    for name in HOOKS:
        assert re.search(rf"def test_hook_{name}\b", TESTS), f"no test_hook_{name}"


def test_every_hook_is_documented_in_docs_plugins():
    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()
    for name in HOOKS:
        assert f"## {name}" in text, f"docs/plugins.md has no section for {name}"


DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _example(hook: str, directory: pathlib.Path):
    """The plugin module that docs/plugins.md's section for ``hook`` shows, imported from a file."""
    import importlib.util

    text = DOCS.read_text()
    section = text[text.index(f"## {hook}\n") :]
    section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else len(section)]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, f"docs/plugins.md: the {hook} section has no Python example"
    path = directory / f"docs_example_{hook}.py"
    path.write_text(code.group(1))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_in_docs_plugins_is_a_working_plugin(git_repo, tmp_path):
    """Each section's example is registered as a plugin and does what the section says."""
    import typer
    from typer.testing import CliRunner

    from gitorch import AuditResult, Finding
    from gitorch.audit import run_audit
    from gitorch.config import Config
    from gitorch.errors import UsageError
    from gitorch.plugin import get_plugins
    from gitorch.testing.fixtures import commit

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "audit_licensing.md.j2").write_text("Audit the licences of {{ module_path }}\n")
    examples = {hook: _example(hook, tmp_path) for hook in HOOKS}
    plugins = get_plugins([], modules={hook: module for hook, module in examples.items()})
    assert not plugins.failures
    assert {p.name: p.hooks for p in plugins.loaded} == {hook: (hook,) for hook in HOOKS}

    assert plugins.dimension("licensing").title == "Licensing"
    commit(git_repo, {"a.py": "x = 1\n", "b.py": "# SPDX-License-Identifier: MIT\n"}, "code")
    root = pathlib.Path(git_repo.working_tree_dir)
    audited = run_audit(root, "licensing", Config(), plugins)  # the default auditor of licensing
    assert audited.agent == "licences"
    assert [(f.file, f.description) for f in audited.findings] == [("a.py", "no licence header")]
    (root / "docs").mkdir()
    with pytest.raises(UsageError, match="'licences': nothing to audit under 'docs'"):
        run_audit(root, "licensing", Config(), plugins, path="docs")

    parsed = plugins.parser("jsonl").parse('{"severity": "P1", "description": "x"}\n', dimension="d")
    assert [(f.severity, f.description) for f in parsed.findings] == [("P1", "x")]

    app = typer.Typer()
    app.command("noop")(lambda: None)
    plugins.add_commands(app)
    assert CliRunner().invoke(app, ["hello", "--name", "docs"]).stdout == "hello docs\n"

    assert plugins.template_dirs(root) == []  # no LICENSE in the repository
    (root / "LICENSE").write_text("MIT\n")
    assert plugins.template_dirs(root) == [("gitorch_template_dirs", tmp_path / "templates")]

    assert plugins.modules(root, Config()) == []
    (root / "engine").mkdir()
    (root / "engine" / "Cargo.toml").write_text("[package]\n")
    assert plugins.modules(root, Config()) == [("gitorch_modules", "engine")]

    added = [("**/LICENSE", "gitorch_gate_defaults"), ("**/COPYING", "gitorch_gate_defaults")]
    assert plugins.gate_defaults() == {"confirm.core_files": added}

    findings = [
        Finding(dimension="d", severity="P2", description="v", file="vendor/lib.py"),
        Finding(dimension="d", severity="P2", description="own", file="app.py"),
    ]
    kept = plugins.process_findings(findings, AuditResult(dimension="d", agent="a"), Config())
    assert [f.description for f in kept] == ["own"]
