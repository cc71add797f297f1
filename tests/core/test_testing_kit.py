"""gitorch's pytest plugin for plugin authors, run the way a plugin's own test suite runs it.

Each test writes a small project (a ``pyproject.toml`` declaring a gitorch entry point, and tests) and
runs pytest on it in a subprocess (pytest's ``pytester``): the ``gitorch_*`` fixtures arrive through the
``pytest11`` entry point with no opt-in, isolate what they touch, and drive the real command line.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

PYPROJECT = """\
[project]
name = "gitorch-example"
version = "0.1.0"

[project.entry-points.gitorch]
example = "gitorch_example"
"""


def run(pytester: pytest.Pytester, tests: str, *args: str) -> pytest.RunResult:
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.makepyfile(test_plugin=tests)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_the_fixtures_come_without_opt_in_and_none_is_autouse(pytester):
    result = run(
        pytester,
        """
        import os

        def test_a_plain_test_is_left_alone(request):
            assert not [name for name in request.fixturenames if name.startswith("gitorch")]
            assert "GITORCH_STRICT_PLUGINS" not in os.environ

        def test_the_env_isolates_git_and_plugins(gitorch_env, gitorch_plugins_under_test):
            assert gitorch_plugins_under_test == ["example"]  # read from the project's pyproject.toml
            assert os.environ["GITORCH_LOAD_PLUGINS"] == "example"
            assert os.environ["GITORCH_STRICT_PLUGINS"] == "1"
            assert os.environ["GIT_CONFIG_NOSYSTEM"] == "1" and gitorch_env["GIT_CONFIG_GLOBAL"]
        """,
    )
    result.assert_outcomes(passed=2)


def test_a_plugin_is_tested_through_the_real_command_line(pytester):
    pytest.importorskip("gitorch_example", reason="pip install -e plugins/gitorch-example")
    result = run(
        pytester,
        """
        def test_gitorch_lists_and_runs_the_plugin(gitorch_repo, gitorch_cli, gitorch_plugins):
            assert "grep-todos" in gitorch_plugins.agents()
            listed = gitorch_cli("plugins", "--json").json()
            mine = next(p for p in listed["plugins"] if p["name"] == "example")
            assert mine["agents"] == ["grep-todos"] and mine["dimensions"] == ["todos"]
            gitorch_repo.commit({"app.py": "x = 1  # TODO: remove\\n"}, "a todo")
            done = gitorch_cli("audit", "--dim", "todos", "--agent", "grep-todos", "--format", "json")
            assert done.exit_code == 0, done.stderr
            [finding] = done.json()["findings"]
            assert (finding["file"], finding["line"], finding["severity"]) == ("app.py", 1, "P3")
            bad = gitorch_cli("audit", "--dim", "nope")
            assert bad.exit_code == 2 and bad.stderr.startswith("gitorch: unknown dimension")
        """,
    )
    result.assert_outcomes(passed=1)


def test_fake_agents_answer_in_the_real_formats_and_the_model_server_serves(pytester):
    result = run(
        pytester,
        """
        import json
        import subprocess
        import urllib.request

        from gitorch.testing.model_server import Reply

        def test_a_fake_claude(gitorch_fake_agent, gitorch_repo):
            gitorch_fake_agent.install("claude", text="All good.")
            done = subprocess.run(["claude", "-p", "hi", "--output-format", "json"], input="",
                                  capture_output=True, text=True, check=True)
            assert json.loads(done.stdout)["result"] == "All good."
            assert gitorch_fake_agent.dump()["argv"][:2] == ["-p", "hi"]
            gitorch_fake_agent.scenario("auth")
            assert subprocess.run(["claude", "-p", "hi", "--output-format", "json"], input="",
                                  capture_output=True).returncode == 1

        def test_the_model_server(gitorch_model_server):
            gitorch_model_server.script(Reply("hello from the loopback model"))
            body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
            request = urllib.request.Request(gitorch_model_server.url + "/v1/messages",
                                             data=json.dumps(body).encode(),
                                             headers={"content-type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert "hello from the loopback model" in json.dumps(json.load(response))
            assert len(gitorch_model_server.agent_requests) == 1
        """,
    )
    result.assert_outcomes(passed=2)


def test_no_gitorch_turns_the_plugin_off(pytester):
    result = run(pytester, "def test_needs_it(gitorch_repo):\n    pass\n", "-p", "no:gitorch")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'gitorch_repo' not found*"])


def test_the_plugin_costs_projects_that_merely_have_gitorch_installed_no_pydantic():
    """pytest imports it in every project whose environment has gitorch: it must stay light."""
    import subprocess
    import sys

    probe = (
        "import sys, gitorch.testing.pytest_plugin;"
        "print(sorted(m for m in ('pydantic', 'gitorch.models', 'gitorch.cli') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
