"""The GitHub Actions workflows of docs/ci/: valid for actionlint, and run here by a stand-in engine.

The stand-in runs the workflow's own steps — the plan, then every unit of the matrix as a separate
process, several at once, then the merge — with bash on a real multi-package repository (pygoat, from
the shared corpus), and checks that the merged report equals one whole-repository audit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "docs" / "ci").glob("*.yml"))
CORPUS = ROOT.parent / "shared" / "corpus" / "repos"
BIN = Path(sys.executable).parent


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    assert exe, "actionlint is a test dependency (pip install -e '.[test]')"
    return subprocess.run([exe, "-no-color", *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_the_workflows_pass_actionlint_and_a_broken_one_does_not(tmp_path):
    assert [p.name for p in WORKFLOWS] == ["fleet.yml", "matrix.yml"]
    done = actionlint(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr
    broken = tmp_path / "broken.yml"
    text = (ROOT / "docs" / "ci" / "matrix.yml").read_text()
    broken.write_text(
        text.replace("fromJSON(needs.plan.outputs.matrix)", "fromJSON(needs.plan.outputs.matrixx)")
    )
    failed = actionlint(broken)
    assert failed.returncode != 0 and "matrixx" in failed.stdout


def _expand(text: str, values: dict) -> str:
    """``${{ matrix.x }}`` (and ``${{ env.X }}``) replaced as the engine would."""
    return re.sub(r"\$\{\{\s*(matrix|env)\.(\w+)\s*\}\}", lambda m: str(values[m.group(1)][m.group(2)]), text)


def _step(job: dict, step_id: str) -> dict:
    return next(step for step in job["steps"] if step.get("id") == step_id)


def _bash(script: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=600, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
    return done


def run_matrix_workflow(repo: Path, dimensions: str, workers: int = 2) -> tuple[dict, Path]:
    """docs/ci/matrix.yml's plan, unit (audit) and merge steps on ``repo``: the units as parallel
    processes. Returns the plan's matrix and the merged report's path."""
    workflow = yaml.safe_load((ROOT / "docs" / "ci" / "matrix.yml").read_text())
    outputs = repo.parent / "github-output"
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
        "GITORCH_DIMENSIONS": dimensions,
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(repo.parent / "summary.md"),
    }
    _bash(_step(workflow["jobs"]["plan"], "plan")["run"], repo, env)
    matrix = json.loads((repo / "plan.json").read_text())
    assert f"units={len(matrix['include'])}" in outputs.read_text()
    audit = _step(workflow["jobs"]["unit"], "audit")

    def one_unit(unit: dict) -> None:
        values = {"matrix": unit, "env": env}
        unit_env = env | {key: _expand(value, values) for key, value in audit["env"].items()}
        _bash(_expand(audit["run"], values), repo, unit_env)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one_unit, matrix["include"]))
    merge = _step(workflow["jobs"]["merge"], "merge")
    _bash(merge["run"], repo, env)
    return matrix, repo / "gitorch.json"


def whole_audit(repo: Path, dimensions: list[str]) -> list[dict]:
    flags = [flag for d in dimensions for flag in ("--dim", d)]
    done = subprocess.run(
        [sys.executable, "-m", "gitorch", "audit", *flags, "--format", "json"], cwd=repo, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    return data if isinstance(data, list) else [data]


def assert_merged_equals_whole(merged: dict, whole: list[dict]) -> None:
    key = ("fingerprint", "severity", "file", "line", "rule_id")
    by_dimension = {r["dimension"]: r for r in merged["results"]}
    assert sorted(by_dimension) == sorted(r["dimension"] for r in whole)
    for expected in whole:
        got = by_dimension[expected["dimension"]]
        assert (got["score"], got["loc"], got["files"]) == (
            expected["score"],
            expected["loc"],
            expected["files"],
        )
        assert sorted(tuple(f[k] for k in key) for f in got["findings"]) == sorted(
            tuple(f[k] for k in key) for f in expected["findings"]
        )
    assert merged["score"] == min(r["score"] for r in whole)


@pytest.mark.slow
def test_the_matrix_workflow_run_by_a_stand_in_engine_equals_a_whole_audit_of_pygoat(tmp_path):
    archive = CORPUS / "pygoat.tar.gz"
    if not archive.is_file():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    repo = tmp_path / "pygoat"
    repo.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    (top,) = (tmp_path / "unpacked").iterdir()
    shutil.copytree(top, repo, dirs_exist_ok=True)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "pygoat"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    matrix, report = run_matrix_workflow(repo, "--dim security")
    kinds = {u["kind"] for u in matrix["include"]}
    assert kinds == {"python", "rest"} and len(matrix["include"]) >= 10  # Django apps and what lies beside
    merged = json.loads(report.read_text())
    assert len(merged["units"]) == len(matrix["include"])
    assert_merged_equals_whole(merged, whole_audit(repo, ["security"]))
    assert (repo / "gitorch.sarif").is_file()
    assert "Merged score" in (tmp_path / "summary.md").read_text()
