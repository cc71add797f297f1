"""The audit cache (issue 14): real repositories, the real local agent and analyzers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gitorch import Agent, AuditResult, Dimension, Finding, hookimpl
from gitorch.audit.cache import AuditCache, audit_key
from gitorch.audit.run import audit_context, make_agent, run_audit, run_audits
from gitorch.config import load_config
from gitorch.models import AuditRequest
from gitorch.plugin.manager import get_plugins
from gitorch.testing.fixtures import commit
from gitorch.vcs.state import changed_paths, tree_state

VULNERABLE = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
CLEAN = "def add(a, b):\n    return a + b\n"
HASHES = "import hashlib\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def root(git_repo) -> Path:
    commit(git_repo, {"app/run.py": VULNERABLE, "app/util.py": CLEAN, "app/hashes.py": HASHES}, "app")
    return Path(git_repo.working_tree_dir)


@pytest.fixture
def plugins():
    return get_plugins()


def audit(root: Path, plugins, dimension: str = "security", **kw) -> AuditResult:
    return run_audit(root, dimension, load_config(root), plugins, agent="local", **kw)


def rules(result: AuditResult) -> list[tuple[str | None, str | None]]:
    return sorted((f.file, f.rule_id) for f in result.findings)


def test_a_second_audit_of_the_same_tree_is_served_from_the_cache_byte_for_byte(root, cli):
    cold = cli("audit", "--dim", "security", "--agent", "local", "--format", "json", "--repo", str(root))
    hot = cli("audit", "--dim", "security", "--agent", "local", "--format", "json", "--repo", str(root))
    assert cold.exit_code == hot.exit_code == 0
    assert json.loads(cold.stdout)["findings"]  # a real audit, with findings
    assert hot.stdout == cold.stdout
    table = cli("audit", "--dim", "security", "--agent", "local", "--repo", str(root))
    assert "(cached)" in table.stdout
    fresh = cli("audit", "--dim", "security", "--agent", "local", "--repo", str(root), "--no-cache")
    assert "(cached)" not in fresh.stdout and "B602" in fresh.stdout
    entries = list((root / ".git" / "gitorch" / "cache" / "audits").glob("*.json"))
    assert len(entries) == 1  # under the git directory, never in the working tree
    assert git(root, "status", "--porcelain") == ""


def test_a_change_to_a_file_committed_staged_or_untracked_gives_a_fresh_result(root, plugins, git_repo):
    first = audit(root, plugins)
    assert not first.cached and ("app/hashes.py", "B324") in rules(first)
    assert audit(root, plugins).cached
    (root / "app" / "util.py").write_text(VULNERABLE.replace("run", "go"))  # uncommitted edit
    edited = audit(root, plugins)
    assert not edited.cached and ("app/util.py", "B602") in rules(edited)
    (root / "app" / "new.py").write_text("import pickle\n\n\ndef load(b):\n    return pickle.loads(b)\n")
    untracked = audit(root, plugins)
    assert not untracked.cached and ("app/new.py", "B301") in rules(untracked)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "edit")  # the same content committed: the same files, a new key
    committed = audit(root, plugins)
    assert rules(committed) == rules(untracked)
    (root / "app" / "hashes.py").unlink()  # a deletion
    deleted = audit(root, plugins)
    assert not deleted.cached and ("app/hashes.py", "B324") not in rules(deleted)
    assert audit(root, plugins).cached


def test_a_change_to_the_configuration_gives_a_fresh_result(root, plugins):
    audit(root, plugins)
    (root / ".gitorch.toml").write_text('exclude = ["app"]\n')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "exclude app")
    excluded = audit(root, plugins)
    assert not excluded.cached and excluded.findings == []
    config = load_config(root, {"exclude": []})
    again = run_audit(root, "security", config, plugins, agent="local")
    assert not again.cached and again.findings  # the same tree, another configuration


def test_a_change_to_an_analyzers_executable_or_version_gives_a_fresh_result(
    root, plugins, tmp_path, monkeypatch
):
    ruff = tmp_path / "bin" / "ruff"
    ruff.parent.mkdir()
    shutil.copy2(Path(sys.executable).parent / "ruff", ruff)
    (root / ".gitorch.toml").write_text(f'[agents.local]\nruff = "{ruff}"\n')
    (root / "app" / "util.py").write_text("import os\n")  # F401
    first = audit(root, plugins, "backend")
    assert not first.cached and ("app/util.py", "ruff:F401") in rules(first)
    assert audit(root, plugins, "backend").cached
    stat = ruff.stat()
    os.utime(ruff, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # upgraded in place
    assert not audit(root, plugins, "backend").cached
    assert audit(root, plugins, "backend").cached
    site = tmp_path / "site"  # another version of the ruff distribution, first on sys.path
    (site / "ruff-99.0.dist-info").mkdir(parents=True)
    metadata = "Metadata-Version: 2.1\nName: ruff\nVersion: 99.0\n"
    (site / "ruff-99.0.dist-info" / "METADATA").write_text(metadata)
    monkeypatch.syspath_prepend(str(site))
    assert not audit(root, plugins, "backend").cached


def test_a_change_to_a_prompt_template_changes_an_ai_agents_key(root, plugins):
    config = load_config(root)
    request = AuditRequest(root=root, dimension=plugins.dimension("security"), config=config, path=".")

    def key():
        agent = make_agent(plugins, "claude", config, audit_context(root, config, plugins))
        return audit_key(root, request, config, plugins, [("claude", agent)])

    before = key()
    assert before is not None and key().key == before.key
    override = root / ".gitorch" / "templates" / "audit_security.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text("Audit {{ path }} for security problems.\n")
    after = key()
    assert after.key != before.key and after.lineage != before.lineage


def test_a_damaged_entry_is_ignored_and_replaced(root, plugins, caplog):
    cold = audit(root, plugins)
    [entry] = (root / ".git" / "gitorch" / "cache" / "audits").glob("*.json")
    for damage in (b"{not json", b'{"format": 1, "key": "other"}', entry.read_bytes()[:100], b""):
        entry.write_bytes(damage)
        again = audit(root, plugins)
        assert not again.cached and rules(again) == rules(cold)
        assert json.loads(entry.read_bytes())["key"] == entry.stem  # written again
    assert audit(root, plugins).cached


def test_the_cache_is_bounded_and_drops_the_least_recently_used(root, plugins):
    cache = AuditCache(root / ".git" / "gitorch" / "cache" / "audits", max_entries=2)
    result = audit(root, plugins, cache=False)
    keys = []
    for n in range(3):
        (root / "app" / "util.py").write_text(CLEAN + f"# {n}\n")
        request = AuditRequest(root=root, dimension=plugins.dimension("security"), config=load_config(root))
        key = audit_key(root, request, load_config(root), plugins, [("local", make_agent(plugins, "local",
                                                                                           load_config(root)))])
        os.utime(root / "app" / "util.py")
        cache.store(key, result, {"local": result})
        keys.append(key.key)
        for path in cache.directory.glob("*.json"):  # distinct modification times, oldest first
            os.utime(path, ns=(0, path.stat().st_mtime_ns - 10**9))
    assert cache.load(keys[0]) is None
    assert cache.load(keys[1]) is not None and cache.load(keys[2]) is not None


def test_after_a_commit_bandit_runs_on_the_changed_files_only_and_equals_a_cold_audit(root, plugins):
    audit(root, plugins)
    commit_files = {"app/util.py": VULNERABLE.replace("run", "go"), "app/extra.py": HASHES}
    for rel, text in commit_files.items():
        (root / rel).write_text(text)
    (root / "app" / "hashes.py").unlink()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "fix and add")
    said: list[str] = []
    incremental = audit(root, plugins, progress=said.append)
    assert any("re-running bandit on 2 changed file(s)" in m for m in said), said
    cold = audit(root, plugins, cache=False)

    def comparable(result: AuditResult) -> dict:
        return result.model_dump(mode="json", exclude={"duration_s"})

    assert comparable(incremental) == comparable(cold)
    assert ("app/hashes.py", "B324") not in rules(cold) and ("app/extra.py", "B324") in rules(cold)


def test_ruff_reruns_the_changed_files_only_under_the_curated_rules(root, plugins):
    (root / "app" / "util.py").write_text("import os\n")
    git(root, "commit", "-qam", "unused import")
    audit(root, plugins, "backend")
    (root / "app" / "util.py").write_text(CLEAN)
    (root / "app" / "run.py").write_text("import sys\n" + VULNERABLE)
    said: list[str] = []
    incremental = audit(root, plugins, "backend", progress=said.append)
    assert any("re-running ruff on 2 changed file(s)" in m for m in said), said
    cold = audit(root, plugins, "backend", cache=False)
    assert incremental.model_dump(exclude={"duration_s"}) == cold.model_dump(exclude={"duration_s"})
    assert rules(cold) == [("app/run.py", "ruff:F401")]


def test_a_bandit_configuration_change_reruns_everything(root, plugins):
    audit(root, plugins)
    (root / "pyproject.toml").write_text('[tool.bandit]\nskips = ["B324"]\n')
    said: list[str] = []
    result = audit(root, plugins, progress=said.append)
    assert not any("changed file" in m for m in said)
    assert ("app/hashes.py", "B324") not in rules(result)


def test_tree_states_and_the_paths_between_them(root):
    clean = tree_state(root, "app")
    assert clean.changes == {} and clean.tree == git(root, "rev-parse", "HEAD:app").strip()
    (root / "app" / "util.py").write_text("x = 1\n")
    (root / "app" / "more.py").write_text("y = 2\n")
    (root / "outside.py").write_text("z = 3\n")  # not under the audited path
    dirty = tree_state(root, "app")
    assert set(dirty.changes) == {"app/util.py", "app/more.py"} and dirty.digest != clean.digest
    git(root, "add", "-A")
    git(root, "commit", "-qm", "more")
    committed = tree_state(root, "app")
    assert committed.changes == {} and committed.tree != clean.tree
    assert changed_paths(root, clean, committed) == ["app/more.py", "app/util.py"]
    assert changed_paths(root, clean, tree_state(root, ".")) is None  # another path


class Counting(Agent):
    """Stands for an AI agent: every audit would be paid for."""

    name = "counting"
    calls = 0

    def audit(self, request):
        type(self).calls += 1
        return AuditResult(
            dimension=request.dimension.name,
            agent=self.name,
            findings=[Finding(dimension="paid", severity="P2", description="paid", file="app/run.py")],
        )


class Nothing(Dimension):
    name = "paid"


class CountingPlugin:
    @hookimpl
    def gitorch_agents(self):
        return [Counting]

    @hookimpl
    def gitorch_dimensions(self):
        return [Nothing]


def test_an_audit_is_never_paid_for_twice_for_the_same_tree(root):
    plugins = get_plugins([], modules={"dimensions": "gitorch_dimensions", "counting": CountingPlugin()})
    Counting.calls = 0
    config = load_config(root)
    first = run_audit(root, "paid", config, plugins, agent="counting")
    second = run_audit(root, "paid", config, plugins, agent="counting")
    assert Counting.calls == 1 and second.cached and second.findings == first.findings
    (root / "README.md").write_text("changed\n")
    run_audit(root, "paid", config, plugins, agent="counting")
    assert Counting.calls == 2  # no re-audit hook: a changed tree is audited again in full


def test_dimensions_run_concurrently_and_come_back_in_their_order(root, plugins):
    names = ["security", "backend", "architecture"]
    results = run_audits(root, names, load_config(root), plugins, agent="local", cache=False)
    assert [r.dimension for r in results] == names
    assert all(r.score is not None for r in results)


def test_bandit_in_process_reports_what_the_bandit_command_reports(root):
    from gitorch_local import bandit
    from gitorch_local.tools import find_tool, parse_json, run

    (root / "app" / "broken.py").write_text("def f(:\n")  # a parse error too
    (root / "vendor").mkdir()
    (root / "vendor" / "lib.py").write_text(VULNERABLE)
    excludes = ["vendor"]
    command = bandit.command(find_tool("bandit"), root, ".", excludes)
    by_command = bandit.findings(parse_json(run(command, root), "bandit"), root, excludes)
    in_process = bandit.findings(bandit.scan(root, ".", excludes), root, excludes)
    assert in_process == by_command
    assert {f.file for f in in_process[0]} == {"app/run.py", "app/hashes.py", "app/broken.py"}
