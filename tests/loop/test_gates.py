"""Diff analysis and gates on real git diffs (no loop, fast)."""

from __future__ import annotations

import os

import pytest
from loophelpers import git

from gitorch.config import Config
from gitorch.loop.gates import evaluate, lost_tests, matches, needs_source
from gitorch.vcs.diff import analyze


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_text("one\ntwo\nthree\n")
    (root / "blob.bin").write_bytes(b"\x00\x01\x02")
    (root / "gone.py").write_text("X = 1\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("def test_x():\n    assert 1 + 1 == 2\n    assert 2 * 2 == 4\n")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return root


def staged_diff(root):
    git(root, "add", "-A")
    return git(root, "diff", "--cached", "--binary", "-M", "HEAD")


def sources(root, stats, config=None):
    """What the attempt hands the gates: the texts at HEAD and in the worktree of the files they compare."""
    config = config or Config()
    found = {}
    for f in stats.files:
        for path in f.paths:
            if needs_source(path, config):
                before = git(root, "show", f"HEAD:{path}", check=False) or None
                after = (root / path).read_text() if (root / path).is_file() else None
                found[path] = (before, after)
    return found


def verdict_of(root, config=None):
    config = config or Config()
    stats = analyze(staged_diff(root))
    return evaluate(stats, config, root=root, sources=sources(root, stats, config))


def test_globs_match_like_gitignore():
    assert matches("__init__.py", ["**/__init__.py"])
    assert matches("pkg/sub/__init__.py", ["**/__init__.py"])
    assert not matches("pkg/init.py", ["**/__init__.py"])
    assert matches("sub/pyproject.toml", ["pyproject.toml"])
    assert matches(".github/workflows/ci.yml", [".github/**"])
    assert matches("app/models/user.py", ["**/models/**"])
    assert not matches("app/modelsx/user.py", ["**/models/**"])


def test_analysis_sees_renames_binaries_symlinks_new_and_deleted_files(repo):
    os.rename(repo / "a.txt", repo / "b.txt")
    (repo / "b.txt").write_text("one\ntwo\nthree\nfour\n")
    (repo / "blob.bin").write_bytes(b"\x00\x09\x09\x09")
    (repo / "gone.py").unlink()
    (repo / "new.py").write_text("A = 1\nB = 2\n")
    os.symlink("new.py", repo / "link.py")
    stats = analyze(staged_diff(repo))
    by = {f.path: f for f in stats.files}
    assert (
        by["b.txt"].is_renamed
        and by["b.txt"].old_path == "a.txt"
        and (by["b.txt"].added, by["b.txt"].removed) == (1, 0)
    )
    assert by["blob.bin"].is_binary
    assert by["gone.py"].is_deleted and by["gone.py"].removed == 1
    assert by["new.py"].is_new and by["new.py"].added == 2
    assert by["link.py"].is_symlink and by["link.py"].added_lines == ("new.py",)
    assert stats.touched == ["a.txt", "b.txt", "blob.bin", "gone.py", "link.py", "new.py"]
    assert evaluate(stats, Config(), root=repo).decision == "confirm"  # a deleted file


def test_removing_assertions_from_a_test_is_rejected_but_adding_one_is_fine(repo):
    test = repo / "tests" / "test_x.py"
    test.write_text("def test_x():\n    assert 1 + 1 == 2\n    assert 2 * 2 == 4\n    assert 3 * 3 == 9\n")
    assert verdict_of(repo).decision == "pass"
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "more")
    test.write_text("def test_x():\n    assert 1 + 1 == 2\n    pass\n    pass\n")
    verdict = verdict_of(repo)
    assert verdict.decision == "reject" and "test_x lost 2 assertion(s)" in verdict.describe()


def test_a_trivial_assertion_swapped_in_is_a_weakening(repo):
    (repo / "tests" / "test_x.py").write_text("def test_x():\n    assert True\n    assert 2 * 2 == 4\n")
    verdict = verdict_of(repo)
    assert [h.gate for h in verdict.hits] == ["test-weakened", "test-weakened"]
    assert "cannot fail" in verdict.describe()


def test_a_reformatted_test_or_a_changed_expectation_is_no_weakening(repo):
    (repo / "tests" / "test_x.py").write_text(
        "# checks arithmetic\ndef test_x():\n    assert (1 + 1) == 2  # still\n    assert 2 * 2 == 5\n"
    )
    assert verdict_of(repo).decision == "pass"


@pytest.mark.parametrize(
    "where, text",
    [
        ("pyproject.toml", '[tool.pytest.ini_options]\naddopts = "-k not_x"\n'),
        ("setup.cfg", "[tool:pytest]\naddopts = --collect-only\n"),
        (".pytest.ini", "[pytest]\naddopts = --collect-only\n"),
        ("pytest.toml", '[pytest]\naddopts = ["--collect-only"]\n'),
        ("tests/unit/conftest.py", "collect_ignore_glob = ['*']\n"),
        ("sub/tox.ini", "[pytest]\naddopts = --co\n"),
    ],
)
def test_test_collection_configuration_is_protected_wherever_it_is(repo, where, text):
    (repo / where).parent.mkdir(parents=True, exist_ok=True)
    (repo / where).write_text(text)
    verdict = verdict_of(repo)
    assert verdict.decision == "reject" and [h.gate for h in verdict.hits] == ["test-config"]


def test_a_pyproject_change_outside_the_test_sections_is_allowed(repo):
    pyproject = '[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    (repo / "pyproject.toml").write_text(pyproject)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pyproject")
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["requests"]\n\n[tool.pytest.ini_options]\naddopts = "-q"\n'
    )
    assert verdict_of(repo).decision == "pass"
    (repo / "pyproject.toml").write_text(pyproject.replace('"-q"', '"-x"'))
    assert [h.gate for h in verdict_of(repo).hits] == ["test-config"]
    (repo / "pyproject.toml").write_text("[project\n")  # unreadable: the safe side
    assert [h.gate for h in verdict_of(repo).hits] == ["test-config"]


def test_a_test_that_passed_before_must_pass_after():
    before = frozenset({"t::a", "t::b", "t::c"})
    assert lost_tests(before, dict.fromkeys(["t::a", "t::b", "t::c", "t::d"], "passed")) is None
    hit = lost_tests(before, {"t::a": "passed", "t::b": "skipped"})
    assert hit is not None and hit.decision == "reject"
    assert hit.detail == "2 test(s) that passed before do not pass now: t::b (skipped), t::c (missing)"
    assert lost_tests(before, None).gate == "tests-lost"  # no JUnit report at all
    assert lost_tests(None, None) is None and lost_tests(frozenset(), {}) is None  # nothing to keep


def test_thresholds_come_from_the_configuration(repo):
    (repo / "a.txt").write_text("")
    stats = analyze(staged_diff(repo))
    assert evaluate(stats, Config()).decision == "pass"
    strict = Config.model_validate({"confirm": {"deleted_lines": 2}})
    assert [h.gate for h in evaluate(stats, strict).hits] == ["deleted-lines"]


def test_the_test_command_can_name_the_worktree(tmp_path):
    from gitorch.process.testrun import run_tests

    outcome = run_tests(tmp_path, "sh -c 'echo {worktree}; pwd -P'", "", 30)
    assert outcome.passed, outcome.output
    assert outcome.output.split() == [str(tmp_path), str(tmp_path.resolve())]


def test_a_staged_attempt_rolls_back_through_the_kept_index_exactly(repo, monkeypatch):
    from gitorch.vcs.workspace import Worktree

    excludes = repo / ".git" / "gitorch-exclude"
    excludes.write_text("")
    gitorch = repo / ".git" / "gitorch"
    wt = Worktree.create(repo, gitorch / "worktrees" / "w", gitorch / "gitdirs" / "w.git", "HEAD",
                         branch="gitorch/w",
                         excludes_file=excludes)
    green = wt.head()
    wt.restore(green)  # keeps the index matching green
    before = {p.relative_to(wt.path).as_posix(): p.read_bytes() for p in wt.path.rglob("*") if p.is_file()}
    (wt.path / "a.txt").write_text("changed\n")
    (wt.path / "gone.py").unlink()
    (wt.path / "blob.bin").rename(wt.path / "moved.bin")
    (wt.path / "brand_new.py").write_text("N = 1\n")
    (wt.path / "debug.log").write_text("ignored? not here, but untracked\n")
    wt.stage_all()
    stats = analyze(wt.staged_patch(green))
    in_green = sorted({f.old_path or f.path for f in stats.files if not f.is_new})
    assert in_green == ["a.txt", "blob.bin", "gone.py"]
    monkeypatch.setattr(Worktree, "restore", lambda self, commit: pytest.fail("took the slow path"))
    wt.roll_back(green, in_green, tests_ran=False)
    after = {p.relative_to(wt.path).as_posix(): p.read_bytes() for p in wt.path.rglob("*") if p.is_file()}
    assert after == before
    assert git(wt.path, "status", "--porcelain", "--ignored") == ""
    assert git(wt.path, "diff", "--cached", "--name-only", green) == ""
