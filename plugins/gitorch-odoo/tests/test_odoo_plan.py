"""Real OCA modules as the units of `gitorch plan`: one process per unit, merged, equal a whole audit."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from odoohelpers import extract_addon, git_commit_all, gitorch

MODULES = ["l10n_es_aeat", "account_banking_mandate", "account_financial_report"]
DIMENSIONS = ["compliance", "security"]


def _run(args: list[str], root: Path, env: dict[str, str]) -> str:
    done = gitorch(args, root, env)
    assert done.returncode == 0, f"gitorch {' '.join(args)}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_plan_units_audited_in_parallel_processes_merge_to_the_whole_audit(tmp_path, odoo_env):
    root = tmp_path / "addons-repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    for name in MODULES:
        extract_addon(name, root / "addons")
    git_commit_all(root, "three OCA modules as released")
    flags = [flag for d in DIMENSIONS for flag in ("--dim", d)]

    matrix = json.loads(_run(["plan", *flags, "--json"], root, odoo_env))
    units = matrix["include"]
    assert sorted({(u["module"], u["kind"]) for u in units}) == sorted((m, "odoo") for m in MODULES)
    assert {(u["dimension"], u["agent"]) for u in units} == {("compliance", "odoo"), ("security", "local")}
    (root.parent / "plan.json").write_text(json.dumps(matrix))

    results = root.parent / "results"
    results.mkdir()

    def audit(unit: dict) -> None:  # the stand-in CI engine: one process per unit, two at a time
        out = results / f"{unit['slug']}.json"
        args = ["audit", "--path", unit["path"], "--dim", unit["dimension"], "--format", "json"]
        args += ["--output", str(out)]
        _run(args, root, odoo_env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(audit, units))
    merged = json.loads(
        _run(
            ["merge", str(results), "--plan", str(root.parent / "plan.json"), "--format", "json"],
            root,
            odoo_env,
        )
    )
    whole = json.loads(_run(["audit", *flags, "--format", "json"], root, odoo_env))
    by_dimension = {r["dimension"]: r for r in merged["results"]}
    key = ("fingerprint", "severity", "file", "line", "rule_id", "source")
    for expected in whole:
        got = by_dimension[expected["dimension"]]
        assert (got["score"], got["loc"]) == (expected["score"], expected["loc"]), expected["dimension"]
        assert sorted(tuple(f[k] for k in key) for f in got["findings"]) == sorted(
            tuple(f[k] for k in key) for f in expected["findings"]
        )
        assert got["findings"], expected["dimension"]  # real findings, not two empty audits
    assert merged["score"] == min(r["score"] for r in whole)
    assert {b for r in merged["results"] for b in [r["agent"], *r["contributors"]]} >= {"odoo", "local"}
