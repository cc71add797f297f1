"""Git access: finding the repository and, for the fix loop, the run's worktree, refs and commits.

gitpython finds and opens repositories; the fix loop's hot path runs ``git`` itself through
:class:`Git` so every call gets the same safety settings (no auto-gc in the user's repository, no
pager, no hooks of the user's configuration firing on our commits) and one clear error.

NOTE: every destructive command (``reset --hard``, ``clean``) goes through :meth:`Worktree.restore`,
which refuses to run anywhere but a gitorch run worktree inside the git directory. The user's
checkout is never the target of a destructive git command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from gitorch.errors import ExitCode, GitorchError, UsageError

RUN_BRANCH_PREFIX = "gitorch/"
REF_NAMESPACE = "refs/gitorch"
# Files tools and test runs leave behind; never part of an attempt's diff.
ARTIFACT_EXCLUDES = (
    "__pycache__/",
    "*.py[cod]",
    ".pytest_cache/",
    ".ruff_cache/",
    ".mypy_cache/",
    ".coverage",
    ".coverage.*",
    "htmlcov/",
    ".hypothesis/",
    ".tox/",
    ".nox/",
    "*.egg-info/",
    ".codemodder/",
)
# -c settings for every git call gitorch makes: the user's repository must not be repacked or
# gc'ed under their feet, and commit hooks of the user's config must not run on gitorch's commits.
_SAFE_CONFIG = (
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "advice.detachedHead=false",
    "-c",
    "core.quotepath=off",
)


class GitError(GitorchError):
    """A git command gitorch ran failed."""

    exit_code = ExitCode.ERROR


def open_repo(path: Path | str = "."):
    """The repository containing ``path``; a one-line UsageError when there is none."""
    import git

    start = Path(path)
    if not start.exists():
        raise UsageError(f"{start}: no such directory")
    try:
        return git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{start.resolve()} is not inside a git repository") from None


def repo_root(path: Path | str = ".") -> Path:
    repo = open_repo(path)
    if repo.bare or repo.working_tree_dir is None:
        raise UsageError(f"{Path(path).resolve()} is a bare repository; gitorch needs a working tree")
    return Path(repo.working_tree_dir)


class Git:
    """Runs ``git`` in one directory with gitorch's safety settings."""

    def __init__(self, cwd: Path, *, excludes_file: Path | None = None) -> None:
        self.cwd = Path(cwd)
        self.extra: tuple[str, ...] = ()
        if excludes_file is not None:
            # a run worktree: artifacts excluded, and git's untracked cache on (kept in the worktree's own
            # index, so the user's repository is not affected) to make the scans of big trees cheaper
            self.extra = ("-c", f"core.excludesFile={excludes_file}", "-c", "core.untrackedCache=true")

    def run(
        self,
        *args: str,
        check: bool = True,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        text: bool = True,
    ):
        """Run ``git args`` and return its stdout (str, or bytes when ``text=False``)."""
        argv = ["git", *_SAFE_CONFIG, *self.extra, *args]
        full_env = None
        if env:
            full_env = {**os.environ, **env}
        proc = subprocess.run(argv, cwd=self.cwd, input=input, capture_output=True, env=full_env, check=False)
        if check and proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise GitError(
                f"git {' '.join(args[:3])} failed in {self.cwd}: {err[-1] if err else proc.returncode}"
            )
        return proc.stdout.decode(errors="replace") if text else proc.stdout

    def ok(self, *args: str) -> bool:
        return (
            subprocess.run(["git", *_SAFE_CONFIG, *args], cwd=self.cwd, capture_output=True).returncode == 0
        )

    def rev(self, rev: str) -> str | None:
        """The commit id ``rev`` names, or None."""
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", f"{rev}^{{commit}}"],
            cwd=self.cwd,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() or None if out.returncode == 0 else None


def git_common_dir(root: Path) -> Path:
    """The repository's common git directory (shared by all its worktrees)."""
    out = Git(root).run("rev-parse", "--path-format=absolute", "--git-common-dir").strip()
    return Path(out)


def gitorch_dir(root: Path) -> Path:
    """``<git-common-dir>/gitorch``: where sessions, worktrees and the lock live."""
    return git_common_dir(root) / "gitorch"


def run_branch(session_id: str) -> str:
    return f"{RUN_BRANCH_PREFIX}{session_id}"


def iteration_ref(session_id: str, iteration: int) -> str:
    return f"{REF_NAMESPACE}/{session_id}/iter-{iteration}"


def attic_prefix(session_id: str) -> str:
    return f"{REF_NAMESPACE}/{session_id}/attic/"


def identity_env(git: Git) -> dict[str, str]:
    """Author/committer for run commits: the user's configured identity, else a gitorch one."""
    if git.ok("var", "GIT_COMMITTER_IDENT"):
        return {}
    return {
        "GIT_AUTHOR_NAME": "gitorch",
        "GIT_AUTHOR_EMAIL": "gitorch@localhost",
        "GIT_COMMITTER_NAME": "gitorch",
        "GIT_COMMITTER_EMAIL": "gitorch@localhost",
    }


def format_trailers(trailers: dict[str, str]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in trailers.items())


def snapshot_dirty(root: Path) -> str | None:
    """A commit holding the user's uncommitted changes to tracked files, made without touching anything.

    ``git stash create`` builds the commit object and stores no ref; it runs on a copy of the index
    (``GIT_INDEX_FILE``) because even a read-only git command may rewrite stat data in the index.
    Returns None when there is nothing uncommitted.
    """
    import shutil
    import tempfile

    git = Git(root)
    index = Path(git.run("rev-parse", "--path-format=absolute", "--git-path", "index").strip())
    with tempfile.TemporaryDirectory(prefix="gitorch-index-") as tmp:
        copy = Path(tmp) / "index"
        if index.exists():
            shutil.copy2(index, copy)
        out = git.run(
            "stash", "create", "gitorch: uncommitted work", env={"GIT_INDEX_FILE": str(copy)}
        ).strip()
    return out or None


@dataclass
class Worktree:
    """A run's linked worktree, inside the git directory, checked out on the run branch."""

    path: Path
    git: Git

    @classmethod
    def create(cls, root: Path, path: Path, branch: str, start: str, excludes_file: Path) -> Worktree:
        path.parent.mkdir(parents=True, exist_ok=True)
        Git(root).run("worktree", "add", "-q", "-b", branch, str(path), start)
        return cls(path, Git(path, excludes_file=excludes_file))

    @classmethod
    def attach(cls, root: Path, path: Path, branch: str, excludes_file: Path) -> Worktree:
        """The worktree at ``path``; re-created on ``branch`` if it was removed."""
        if not (path / ".git").exists():
            Git(root).run("worktree", "prune")
            path.parent.mkdir(parents=True, exist_ok=True)
            Git(root).run("worktree", "add", "-q", str(path), branch)
        return cls(path, Git(path, excludes_file=excludes_file))

    def _guard(self) -> None:
        # Destructive commands only ever run in a gitorch worktree: <git-common-dir>/gitorch/worktrees/<id>.
        resolved = self.path.resolve()
        if resolved.parent.name != "worktrees" or resolved.parent.parent.name != "gitorch":
            raise GitError(f"refusing to reset {resolved}: not a gitorch run worktree")
        if not (resolved / ".git").is_file():
            raise GitError(f"refusing to reset {resolved}: not a linked worktree")

    def head_is(self, branch: str, commit: str) -> bool:
        """Whether HEAD is the symbolic ref ``branch`` and the branch is at ``commit``, read from the files
        (False when unsure, e.g. a packed ref: the caller then asks git)."""
        try:
            link = (self.path / ".git").read_text(encoding="utf-8").strip()
            admin = Path(link.removeprefix("gitdir: "))
            if (admin / "HEAD").read_text(encoding="utf-8").strip() != f"ref: refs/heads/{branch}":
                return False
            common = admin / (admin / "commondir").read_text(encoding="utf-8").strip()
            return (common / "refs" / "heads" / branch).read_text(encoding="utf-8").strip() == commit
        except OSError:
            return False

    def admin_dir(self) -> Path | None:
        """The worktree's own directory in the git directory (``.git/worktrees/<name>``)."""
        try:
            link = (self.path / ".git").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return Path(link.removeprefix("gitdir: "))

    def clear_stale_locks(self, common_dir: Path, branch: str, ref_prefix: str) -> list[str]:
        """Remove lock files a killed gitorch process left (its index, HEAD and run refs only).

        Only call this holding the run lock of a session whose previous process is gone: then nothing
        else can be writing these files.
        """
        candidates = [common_dir / "refs" / "heads" / f"{branch}.lock"]
        admin = self.admin_dir()
        if admin is not None:
            candidates += [admin / "index.lock", admin / "HEAD.lock"]
        refs = common_dir / ref_prefix
        if refs.is_dir():
            candidates += list(refs.rglob("*.lock"))
        removed = []
        for lock in candidates:
            if lock.is_file():
                lock.unlink()
                removed.append(str(lock))
        return removed

    def head(self) -> str:
        return self.git.run("rev-parse", "HEAD").strip()

    def symbolic_head(self) -> str | None:
        out = subprocess.run(
            ["git", "symbolic-ref", "-q", "HEAD"], cwd=self.path, capture_output=True, text=True
        )
        return out.stdout.strip() or None

    def stage_all(self) -> None:
        """Stage everything in the worktree (new files included, ignored and artifact files left out)."""
        self.git.run("add", "-A")

    def staged_patch(self, base: str) -> str:
        """The staged changes against ``base`` as a git patch (renames found, binary included)."""
        return self.git.run("diff", "--cached", "--binary", "-M", "--no-color", "--no-ext-diff", base)

    def commit_staged(self, parent: str, message: str, branch: str, env: dict[str, str]) -> str:
        """Commit the index on top of ``parent``; move ``branch`` there (atomically, only from ``parent``)."""
        tree = self.git.run("write-tree").strip()
        commit = self.git.run(
            "commit-tree", tree, "-p", parent, "-F", "-", input=message.encode(), env=env
        ).strip()
        self.git.run("update-ref", "-m", "gitorch: commit", f"refs/heads/{branch}", commit, parent)
        return commit

    def restore(self, commit: str) -> None:
        """Make the worktree exactly ``commit``: tracked files reset, untracked and ignored files removed."""
        self._guard()
        self.git.run("reset", "-q", "--hard", commit)
        self.git.run("clean", "-q", "-ffdx")
        self._keep_index(commit)

    def settle(self, commit: str) -> None:
        """After committing the index as ``commit``: drop what the test run left behind.

        Cheaper than :meth:`restore` in the usual case: ``diff-files`` only checks the tracked files'
        stat data (the index was just written), and the hard reset runs only if the tests modified one.
        """
        self._guard()
        if not self._tracked_clean():
            self.git.run("reset", "-q", "--hard", commit)
        self.git.run("clean", "-q", "-ffdx")
        self._keep_index(commit)

    def roll_back(self, commit: str, paths: list[str], *, tests_ran: bool) -> None:
        """Undo a staged attempt on top of ``commit``, whose diff touched ``paths`` (those in ``commit``).

        The index kept when the worktree was last made ``commit`` is put back and only ``paths`` are
        checked out from it, instead of a hard reset that re-reads every file of a big tree. After a
        test run (which may have changed any file) the tracked files are checked too. Falls back to
        :meth:`restore` when no kept index matches ``commit``.
        """
        self._guard()
        admin = self.admin_dir()
        kept = admin / f"gitorch-index-{commit}" if admin is not None else None
        if kept is None or not kept.is_file() or not self.head_is_commit(commit):
            self.restore(commit)
            return
        shutil.copyfile(kept, admin / "index")
        try:
            if paths:
                stdin = "\0".join(paths).encode() + b"\0"
                self.git.run("checkout-index", "-f", "-u", "-z", "--stdin", input=stdin)
            if tests_ran and not self._tracked_clean():
                self.git.run("reset", "-q", "--hard", commit)
            self.git.run("clean", "-q", "-ffdx")
        except GitError:  # e.g. a file the attempt turned into a directory: the thorough way
            self.restore(commit)

    def _tracked_clean(self) -> bool:
        args = ["git", *_SAFE_CONFIG, "diff-files", "--quiet"]
        return subprocess.run(args, cwd=self.path, capture_output=True).returncode == 0

    def _keep_index(self, commit: str) -> None:
        """Keep a copy of the index matching ``commit`` (see :meth:`roll_back`); older copies go."""
        admin = self.admin_dir()
        if admin is None or not (admin / "index").is_file():
            return
        for old in admin.glob("gitorch-index-*"):
            if old.name != f"gitorch-index-{commit}":
                old.unlink(missing_ok=True)
        shutil.copyfile(admin / "index", admin / f"gitorch-index-{commit}")

    def head_is_commit(self, commit: str) -> bool:
        return self.git.rev("HEAD") == commit

    def reattach(self, branch: str) -> None:
        """Point the worktree's HEAD back at the run branch (an agent may have switched or detached it)."""
        self.git.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    def dirty(self) -> bool:
        """Uncommitted changes to tracked files, or untracked files that would be staged."""
        return bool(self.git.run("status", "--porcelain", "--untracked-files=normal").strip())


def remove_worktree(root: Path, path: Path) -> None:
    git = Git(root)
    if path.exists():
        git.run("worktree", "remove", "--force", "--force", str(path))
    git.run("worktree", "prune")


def update_ref(root: Path, ref: str, new: str, old: str | None = None, message: str = "gitorch") -> None:
    args = ["update-ref", "-m", message, ref, new]
    if old is not None:
        args.append(old)
    Git(root).run(*args)


def delete_ref(root: Path, ref: str) -> None:
    Git(root).run("update-ref", "-d", ref)


def list_refs(root: Path, prefix: str) -> dict[str, str]:
    out = Git(root).run("for-each-ref", "--format=%(refname) %(objectname)", prefix)
    return {name: sha for name, sha in (line.split(" ", 1) for line in out.splitlines() if line)}


def numstat(root: Path, base: str, tip: str) -> tuple[int, int, int]:
    """(files changed, lines added, lines removed) between two commits."""
    out = Git(root).run("diff", "--numstat", "-M", base, tip)
    files = added = removed = 0
    for line in out.splitlines():
        a, r, _ = line.split("\t", 2)
        files += 1
        added += int(a) if a != "-" else 0
        removed += int(r) if r != "-" else 0
    return files, added, removed
