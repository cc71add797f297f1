"""gitorch-example through the real gitorch command line, as a plugin author tests a plugin.

Skipped (with the command to run) when the plugin is not installed.
"""

import pytest

pytest.importorskip(
    "gitorch_example", reason="gitorch-example is not installed: pip install -e plugins/gitorch-example"
)


def test_gitorch_loads_it_and_says_what_it_adds(gitorch_cli, gitorch_plugins_under_test):
    assert gitorch_plugins_under_test == ["example"]  # from plugins/gitorch-example/pyproject.toml
    listed = gitorch_cli("plugins", "--json").json()
    mine = next(p for p in listed["plugins"] if p["name"] == "example")
    assert (mine["distribution"], mine["first_party"]) == ("gitorch-example", False)
    assert mine["requires_gitorch"] == ">=0.1"
    assert (mine["agents"], mine["dimensions"], mine["parsers"]) == (["grep-todos"], ["todos"], [])
    assert listed["failed"] == []


def test_the_todos_audit_reports_each_marker_with_its_severity(gitorch_repo, gitorch_cli):
    gitorch_repo.commit(
        {
            "app/main.py": "x = 1  # TODO: tidy\ny = 2  # FIXME: wrong\n",
            ".venv/lib/skipped.py": "# TODO: not ours\n",
        },
        "markers",
    )
    done = gitorch_cli("audit", "--dim", "todos", "--agent", "grep-todos", "--format", "json")
    assert done.exit_code == 0, done.stderr
    result = done.json()
    found = [(f["file"], f["line"], f["severity"], f["rule_id"]) for f in result["findings"]]
    assert found == [("app/main.py", 1, "P3", "todo:todo"), ("app/main.py", 2, "P2", "todo:fixme")]
    assert result["score_source"] == "computed" and result["score"] < 100


def test_the_dimension_needs_the_agent_named_since_it_is_no_default(gitorch_repo, gitorch_cli):
    done = gitorch_cli("audit", "--dim", "todos")
    assert done.exit_code == 2 and "grep-todos" in done.stderr and len(done.stderr.splitlines()) == 1
