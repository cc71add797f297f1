"""Where users run gitorch in CI: the pre-commit hooks and the GitHub Action, checked with real tools."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACTION = ROOT / "action.yml"
EXAMPLE = ROOT / "docs" / "examples" / "gitorch-workflow.yml"


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]')")
    return found


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def user_repo(tmp_path) -> Path:
    repo = tmp_path / "user-repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Test")
    _git(repo, "config", "user.email", "test@example.com")
    (repo / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    (repo / "good.py").write_text("def ok():\n    return 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "init")
    return repo


# pre-commit ---------------------------------------------------------------------------------------


def test_the_hooks_file_names_hooks_that_run_gitorch_audit():
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"gitorch-audit", "gitorch-audit-tree"}
    assert all(h["entry"] == "gitorch audit" and "--fail-under" in h["args"] for h in hooks.values())
    assert hooks["gitorch-audit-tree"]["pass_filenames"] is False


@pytest.mark.slow
def test_pre_commit_try_repo_fails_a_bad_change_and_passes_a_good_one(user_repo, tmp_path):
    pre_commit = _tool("pre-commit")
    if "\n.pre-commit-hooks.yaml\n" not in "\n" + _git(ROOT, "ls-files") :
        pytest.skip("the hooks file is not in gitorch's git index yet (pre-commit try-repo reads the index)")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}

    def try_repo(hook: str) -> subprocess.CompletedProcess:
        return subprocess.run([pre_commit, "try-repo", str(ROOT), hook, "--verbose"], cwd=user_repo, env=env,
                              capture_output=True, text=True, timeout=900)

    (user_repo / "good.py").write_text("def ok():\n    return 2\n")
    _git(user_repo, "add", "good.py")
    passed = try_repo("gitorch-audit")  # only good.py changed: its own findings, scored on its own lines
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "restricted to 1 file(s)" in passed.stdout and "Passed" in passed.stdout

    (user_repo / "app.py").write_text((user_repo / "app.py").read_text() + "\nX = 1\n")
    _git(user_repo, "add", "app.py")
    failed = try_repo("gitorch-audit")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "B602" in failed.stdout
    under = re.search(r"under --fail-under 80: security ([\d.]+)", failed.stdout)
    assert under and float(under.group(1)) <= 59, failed.stdout  # an open P0 keeps the score in its band

    tree = try_repo("gitorch-audit-tree")
    assert tree.returncode == 1 and "B602" in tree.stdout and "restricted to" not in tree.stdout


# the GitHub Action --------------------------------------------------------------------------------


@pytest.fixture
def action_repo(tmp_path) -> Path:
    """A repository holding the action at its root and the example workflow using it as ``./``."""
    repo = tmp_path / "action-repo"
    (repo / ".github" / "workflows").mkdir(parents=True)
    _git(repo, "init", "-q")
    shutil.copy(ACTION, repo / "action.yml")
    workflow = EXAMPLE.read_text().replace("gitorch-dev/gitorch@v0", "./")
    assert workflow.count("uses: ./") == 2
    (repo / ".github" / "workflows" / "gitorch.yml").write_text(workflow)
    return repo


def test_actionlint_passes_the_action_and_the_example_workflow(action_repo):
    actionlint = _tool("actionlint")
    done = subprocess.run([actionlint, "-no-color"], cwd=action_repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([actionlint, "-no-color", str(EXAMPLE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_checks_the_workflow_against_the_action_s_inputs(action_repo):
    actionlint = _tool("actionlint")
    workflow = action_repo / ".github" / "workflows" / "gitorch.yml"
    workflow.write_text(workflow.read_text().replace("fail-under:", "fail-undr:"))
    done = subprocess.run([actionlint, "-no-color"], cwd=action_repo, capture_output=True, text=True)
    assert done.returncode == 1 and 'input "fail-undr" is not defined in action "gitorch"' in done.stdout


def test_the_action_names_only_inputs_and_steps_it_defines():
    action = yaml.safe_load(ACTION.read_text())
    text = ACTION.read_text()
    assert set(re.findall(r"inputs\.([\w-]+)", text)) <= set(action["inputs"])
    step_ids = {s["id"] for s in action["runs"]["steps"] if "id" in s}
    assert set(re.findall(r"steps\.([\w-]+)\.outputs", text)) <= step_ids


def _scripts() -> dict[str, str]:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    return {s["name"]: s["run"] for s in steps if "run" in s}


@pytest.mark.parametrize("name", sorted(_scripts()))
def test_the_action_s_scripts_pass_shellcheck(name):
    shellcheck = _tool("shellcheck")
    script = re.sub(r"\$\{\{.*?\}\}", "placeholder", _scripts()[name])
    done = subprocess.run([shellcheck, "-s", "bash", "-"], input=script, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def _step(name: str, cwd: Path, env: dict[str, str], tmp_path: Path) -> tuple[int, dict[str, str]]:
    """Run one of the action's scripts as the runner would (bash -e, GITHUB_OUTPUT); its outputs."""
    output, summary = tmp_path / f"{name}.out", tmp_path / f"{name}.summary"
    output.write_text("")
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary), **env}
    done = subprocess.run(["bash", "-e", "-c", _scripts()[name]], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=600)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return done.returncode, outputs


def test_the_audit_step_writes_sarif_and_reports_a_score_under_the_threshold(user_repo, tmp_path):
    code, outputs = _step("gitorch audit", user_repo,
                          {"DIMENSIONS": "security", "AUDIT_PATH": ".", "FAIL_UNDER": "80"}, tmp_path)
    assert code == 0 and outputs == {"exit-code": "1", "sarif": "gitorch.sarif"}  # it fails after the upload
    import json

    sarif = json.loads((user_repo / "gitorch.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert any(r["ruleId"] == "B602" for run in sarif["runs"] for r in run["results"])


@pytest.mark.slow
def test_the_fix_step_leaves_a_run_branch_with_commits_and_its_report(tmp_path):
    from gitorch.cli.demo import make_sample_repo

    repo = make_sample_repo(tmp_path / "sample")
    env = {"DIMENSIONS": "backend", "FIX_PATH": ".", "UNTIL": "", "BUDGET": "", "AGENT": ""}
    tests = f'command = "{sys.executable} -m pytest -q"'
    (repo / ".gitorch.toml").write_text(f"max_iterations = 2\n\n[tests]\n{tests}\n")
    _git(repo, "add", ".gitorch.toml")
    _git(repo, "commit", "-qm", "gitorch config")
    code, outputs = _step("gitorch fix", repo, env, tmp_path)
    assert code == 0, outputs
    assert outputs["branch"].startswith("gitorch/") and int(outputs["commits"]) >= 1
    assert _git(repo, "rev-parse", "--verify", outputs["branch"]).strip()
    report = (repo / "gitorch-report.md").read_text()
    assert report.startswith("# gitorch report") and (repo / "gitorch-report.html").is_file()
    assert "# gitorch report" in (tmp_path / "gitorch fix.summary").read_text()
