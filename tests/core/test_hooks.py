"""The contract: every hook is documented, and every hook has a test named after it (datasette's rule)."""

import inspect
import pathlib
import re

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
