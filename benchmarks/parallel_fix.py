"""``gitorch fix --jobs 4`` against ``--jobs 1``: wall time, final tree, red commits.

A repository of eight modules, each with an unused import (ruff F401, found by the embedded agent's
backend audit). The fixer is a stand-in AI CLI driven by the ``command`` agent
(``gitorch/testing/fakes/line_agent.py``) that asks the loopback model server which line to delete; the
server takes a fixed time per call (``--latency``), as a real model does. Both runs use the real command
line in a subprocess, from a fresh copy of the repository, with the same test command gating every
commit. Reported: the wall time of each whole run (start-up, audits and tests included), their ratio,
whether the two final trees are identical, and how many commits of each branch fail the tests.

    python benchmarks/parallel_fix.py [--latency 20] [--modules 8] [--jobs 4]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gitorch.testing.kit import GitRepo
from gitorch.testing.model_server import Dynamic, ModelServer, Reply

ROOT = Path(__file__).resolve().parents[1]
LINE_AGENT = ROOT / "gitorch" / "testing" / "fakes" / "line_agent.py"
LOCATION = re.compile(r"\*\*Location:\*\* `([^`]+?):(\d+)`")
TEST_CMD = f"{sys.executable} -m pytest -q -p no:cacheprovider tests"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def make_repo(path: Path, modules: int) -> Path:
    files = {"app/__init__.py": "", "tests/__init__.py": ""}
    imports = "\n".join(f"from app.m{i} import f{i}" for i in range(1, modules + 1))
    asserts = "\n".join(f"    assert f{i}() == {i}" for i in range(1, modules + 1))
    files["tests/test_app.py"] = f"{imports}\n\n\ndef test_all():\n{asserts}\n"
    for i in range(1, modules + 1):
        files[f"app/m{i}.py"] = f"import os\n\n\ndef f{i}():\n    return {i}\n"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(LINE_AGENT))} {{prompt_file}} {{workdir}}"
    files[".gitorch.toml"] = (
        f'default_dimensions = ["backend"]\n\n[tests]\ncommand = "{TEST_CMD}"\n\n'
        f"[agents.command]\ncommand = '{command}'\ncost_per_call_usd = 0.01\n"
    )
    return GitRepo.create(path, files).path


def answer(request) -> Reply:
    """The model's answer: the line of the finding the prompt names, as JSON."""
    body = json.dumps(request.body)
    found = LOCATION.search(json.loads(body)["messages"][0]["content"])
    return Reply(json.dumps({"file": found.group(1), "line": int(found.group(2))}))


def run(repo: Path, jobs: int, server: ModelServer) -> dict:
    env = {**os.environ, "LINE_AGENT_MODEL_URL": server.url}
    argv = [sys.executable, "-m", "gitorch", "fix", "--agent", "command", "--yes", "--quiet",
            "--jobs", str(jobs), "--budget", "1", "--repo", str(repo)]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"gitorch fix --jobs {jobs} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    status = json.loads(subprocess.run(
        [sys.executable, "-m", "gitorch", "status", "--json", "--repo", str(repo)],
        capture_output=True, text=True, check=True,
    ).stdout)["runs"][0]  # fmt: skip
    base = git(repo, "rev-parse", "main").strip()
    commits = git(repo, "rev-list", "--reverse", f"{base}..{status['branch']}").split()
    red = 0
    for commit in commits:
        where = repo.parent / f"check-{jobs}-{commit[:8]}"
        git(repo, "worktree", "add", "-q", "--detach", str(where), commit)
        red += subprocess.run(shlex.split(TEST_CMD), cwd=where, capture_output=True).returncode != 0
        git(repo, "worktree", "remove", "--force", str(where))
    return {
        "jobs": jobs,
        "wall_s": round(wall, 1),
        "commits": len(commits),
        "red": red,
        "tree": git(repo, "rev-parse", f"{status['branch']}^{{tree}}").strip(),
        "linear": len(git(repo, "rev-list", "--merges", f"{base}..{status['branch']}").split()) == 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=20.0, help="seconds per model call")
    parser.add_argument("--modules", type=int, default=8, help="independent findings (one per module)")
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gitorch-parallel-"))
    try:
        template = make_repo(work / "template", args.modules)
        results = []
        with ModelServer(default=Dynamic(answer), latency_s=args.latency) as server:
            for jobs in (1, args.jobs):
                repo = work / f"jobs-{jobs}"
                shutil.copytree(template, repo, symlinks=True)
                results.append(run(repo, jobs, server))
        one, many = results
        print(f"{args.modules} independent findings, model latency {args.latency:g} s per call, "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print("| jobs | wall | commits | red commits | linear |")
        print("| --- | --- | --- | --- | --- |")
        for r in results:
            print(f"| {r['jobs']} | {r['wall_s']} s | {r['commits']} | {r['red']} | {r['linear']} |")
        print(f"ratio --jobs {args.jobs} / --jobs 1: {many['wall_s'] / one['wall_s']:.3f}")
        print(f"identical final tree: {one['tree'] == many['tree']} ({one['tree'][:12]})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
