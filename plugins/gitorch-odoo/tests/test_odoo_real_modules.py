"""Real OCA modules (19.0, pinned in .ci/odoo-addons.txt): audits, and the fix loop end to end.

The modules are copies of released wheels in a temporary git repository with no configuration (one
test configures it with `gitorch odoo init`); everything runs through the real `gitorch` command line.
The expected counts are those of the pinned releases (measured: docs/odoo.md); a new release of the
analyzers that changes them changes these tests on purpose.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from odoohelpers import extract_addon, git_commit_all, gitorch

pytestmark = pytest.mark.slow

EXPECTED_COMPLIANCE = {
    "l10n_es_aeat": {
        "oca:xml-header-wrong": 13,
        "oca:xml-tag-position": 7,
        "oca:xml-field-numeric-without-eval": 1,
        "pylint-odoo:attribute-string-redundant": 7,
        "pylint-odoo:manifest-superfluous-key": 1,
    },
    "account_banking_mandate": {
        "oca:xml-header-wrong": 8,
        "pylint-odoo:attribute-string-redundant": 1,
        "pylint-odoo:manifest-superfluous-key": 1,
    },
}


def odoo_repo(root: Path, modules: list[str], env: dict[str, str], *, configure: bool = False) -> Path:
    """The modules as released in a fresh repository; ``configure``: with `gitorch odoo init`'s
    .gitorch.toml (otherwise no configuration at all)."""
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    for name in modules:
        extract_addon(name, root / "addons")
    if configure:
        done = gitorch(["odoo", "init"], root, env)
        assert done.returncode == 0, done.stderr
    git_commit_all(root, "modules as released")
    return root


def audit(root: Path, env: dict[str, str], *args: str) -> dict:
    done = gitorch(["audit", "--format", "json", *args], root, env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_compliance_of_real_modules_all_at_once_and_one_by_path(tmp_path, odoo_env):
    root = odoo_repo(tmp_path / "repo", ["l10n_es_aeat", "account_banking_mandate"], odoo_env)
    assert not (root / ".gitorch.toml").exists()  # no configuration: the plugin routes compliance
    everything = audit(root, odoo_env, "--dim", "compliance")
    assert everything["agent"] == "odoo" and everything["score_source"] == "computed"
    for name, expected in EXPECTED_COMPLIANCE.items():
        mine = Counter(
            f["rule_id"] for f in everything["findings"] if f["file"].startswith(f"addons/{name}/")
        )
        assert dict(mine) == expected, name
    assert all(f["file"] and f["line"] and f["severity"] == "P3" for f in everything["findings"])
    one = audit(root, odoo_env, "--dim", "compliance", "--path", "addons/l10n_es_aeat")
    assert Counter(f["rule_id"] for f in one["findings"]) == EXPECTED_COMPLIANCE["l10n_es_aeat"]
    assert one["path"] == "addons/l10n_es_aeat" and one["score"] > everything["score"] - 10
    security = audit(root, odoo_env, "--dim", "security", "--agent", "odoo", "--path", "addons/l10n_es_aeat")
    assert Counter(f["rule_id"] for f in security["findings"]) == {"gitorch-odoo:sudo-call": 11}
    merged = audit(root, odoo_env, "--dim", "security", "--path", "addons/l10n_es_aeat")
    assert (merged["agent"], merged["contributors"]) == ("local", ["odoo"])
    assert Counter(f["source"] for f in merged["findings"])["gitorch-odoo"] == 11
    header = next(f for f in one["findings"] if f["file"] == "addons/l10n_es_aeat/data/aeat_partner.xml")
    assert header["line"] == 1 and header["rule_id"] == "oca:xml-header-wrong"
    assert (
        "Fixed offline by `oca-checks-odoo-module --fix --enable=xml-header-wrong`"
        in header["recommendation"]
    )


def test_account_financial_report_has_sql_to_look_at(tmp_path, odoo_env):
    root = odoo_repo(tmp_path / "repo", ["account_financial_report"], odoo_env)
    compliance = audit(root, odoo_env, "--dim", "compliance")
    rules = Counter(f["rule_id"] for f in compliance["findings"])
    assert rules["oca:xml-header-wrong"] == 24 and rules["oca:xml-tag-position"] == 12
    security = audit(root, odoo_env, "--dim", "security", "--agent", "odoo")
    assert Counter(f["rule_id"] for f in security["findings"])["gitorch-odoo:sudo-call"] == 6


def branch_of(root: Path) -> str:
    out = subprocess.run(
        ["git", "branch", "--list", "gitorch/*", "--format=%(refname:short)"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(out) == 1
    return out[0]


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def test_fix_until_100_on_a_real_module_commits_one_fix_per_check_and_file(tmp_path, odoo_env):
    root = odoo_repo(tmp_path / "repo", ["l10n_es_aeat"], odoo_env)  # no configuration file
    head = git(root, "rev-parse", "HEAD").strip()
    status = git(root, "status", "--porcelain")
    args = ["fix", "--dim", "compliance", "--until", "100", "--yes", "--test-cmd", "gitorch odoo check"]
    done = gitorch(args, root, odoo_env, timeout=1500)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    report = json.loads(gitorch(["report", "--format", "json"], root, odoo_env).stdout)
    assert report["final_score"] == 100
    # the user's branch and checkout are as they were
    assert git(root, "rev-parse", "HEAD").strip() == head and git(root, "status", "--porcelain") == status
    branch = branch_of(root)
    commits = git(root, "log", "--format=%H", f"main..{branch}").split()
    # 7 redundant strings in 5 files, 1 manifest key, 13 XML headers, 7 attribute orders in 5 files, 1 eval
    assert len(commits) == 5 + 1 + 13 + 5 + 1
    for sha in commits:
        files = git(root, "show", "--name-only", "--format=", sha).split()
        assert len(files) == 1 and files[0].startswith("addons/l10n_es_aeat/")
        body = git(root, "show", "-s", "--format=%B", sha)
        assert "Gitorch-Agent: odoo" in body and "Gitorch-Dimension: compliance" in body
    # what the fix loop left behind still parses, and a fresh audit of the branch agrees on 100
    worktree = tmp_path / "branch"
    git(root, "worktree", "add", "-q", "--detach", str(worktree), branch)
    check = gitorch(["odoo", "check"], worktree, odoo_env)
    assert check.returncode == 0 and "0 do not parse" in check.stdout
    again = audit(worktree, odoo_env, "--dim", "compliance")
    assert again["score"] == 100 and again["findings"] == []
    diff = git(root, "diff", f"main..{branch}", "--", "addons/l10n_es_aeat/models/res_company.py")
    removed = [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert removed and all("string=" in line for line in removed)


def test_without_yes_the_manifest_and_access_rules_wait_for_a_human(tmp_path, odoo_env):
    root = odoo_repo(tmp_path / "repo", ["account_banking_mandate"], odoo_env, configure=True)
    done = gitorch(["fix", "--dim", "compliance", "--until", "100"], root, odoo_env, timeout=1500)
    assert done.returncode == 8, done.stdout[-3000:] + done.stderr
    touched = set(git(root, "log", "--format=", "--name-only", f"main..{branch_of(root)}").split())
    # the XML headers of views and data, and the redundant field string in models/ (no confirmation:
    # gitorch's defaults no longer confirm every change under models/)
    assert len(touched) == 8 and all("/views/" in f or "/data/" in f or "/models/" in f for f in touched)
    assert "addons/account_banking_mandate/models/account_banking_mandate.py" in touched
    assert not any(f.endswith("__manifest__.py") or "/security/" in f for f in touched)
    events = [
        json.loads(line)
        for line in next((root / ".git/gitorch/sessions").iterdir())
        .joinpath("events.jsonl")
        .read_text()
        .splitlines()
    ]
    declined = {
        e["question"].split(" of P3 ")[1].split(":")[0]
        for e in events
        if e["type"] == "confirmation" and not e["answer"]
    }
    assert declined == {
        "addons/account_banking_mandate/__manifest__.py",  # the plugin's gate defaults
        "addons/account_banking_mandate/security/mandate_security.xml",
    }
