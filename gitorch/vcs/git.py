"""Git access: finding the repository, the one git gateway, and the run's refs and commits.

Every git command runs through :class:`Git`, the one git gateway (gitpython is not used at run
time: importing it alone starts ``git version`` twice), so that every call gets the same safety
settings (:data:`SAFE_CONFIG`: no auto-gc in the user's repository, no hooks, fsmonitor, signing,
external diff or textconv program of the repository's configuration) and one clear error.

NOTE: every destructive command (``reset --hard``, ``clean``) goes through
:meth:`gitorch.vcs.workspace.Worktree.restore`, which refuses to run anywhere but a gitorch run
workspace. The user's checkout is never the target of a destructive git command.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitorch.errors import ExitCode, UsageError
from gitorch.process.runner import Completed, ProcessError, run_process

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
# NOTE: settings for every git call gitorch makes. The user's repository must not be repacked or gc'ed
# under their feet, and no command the repository's configuration names may run on gitorch's behalf:
# no hooks (core.hooksPath), no fsmonitor hook, no signing program on gitorch's commits, no external
# diff or textconv program (see DIFF_SAFETY), no colour codes or pager in what gitorch parses. Clean
# and smudge filters are left on: turning them off would commit LFS objects as their full content.
SAFE_CONFIG = {
    "gc.auto": "0",
    "maintenance.auto": "false",
    "core.hooksPath": "/dev/null",
    "core.fsmonitor": "false",
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "log.showSignature": "false",
    "color.ui": "false",
    "color.diff": "false",
    "core.pager": "cat",
    "advice.detachedHead": "false",
    "core.quotepath": "off",
}
_SAFE_CONFIG = tuple(arg for key, value in SAFE_CONFIG.items() for arg in ("-c", f"{key}={value}"))
# Options every diff-producing command of gitorch's gets: a diff.external or textconv program of the
# repository's .gitattributes would run, and its output would become the patch gitorch applies.
DIFF_SAFETY = ("--no-ext-diff", "--no-textconv", "--no-color")
# Environment variables that point git at another repository, index or object store (git's own list,
# ``git rev-parse --local-env-vars``), or run a program of the user's: never inherited by gitorch's git.
# A GIT_DIR/GIT_WORK_TREE left set (a hook, a dotfiles alias) would aim a reset at the user's checkout.
_DROPPED_ENV = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
    "GIT_OBJECT_DIRECTORY", "GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_GRAFT_FILE",
    "GIT_INDEX_FILE", "GIT_NO_REPLACE_OBJECTS", "GIT_REPLACE_REF_BASE", "GIT_PREFIX", "GIT_SHALLOW_FILE",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS", "GIT_PAGER", "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR", "GIT_ASKPASS", "GIT_SSH", "GIT_SSH_COMMAND",
)


class GitError(ProcessError):
    """A git command gitorch ran failed (or a destructive one was refused)."""

    exit_code = ExitCode.ERROR


def repo_root(path: Path | str = ".") -> Path:
    """The working tree containing ``path``; a one-line UsageError when there is none."""
    start = Path(path)
    if not start.exists():
        raise UsageError(f"{start}: no such directory")
    where = (start if start.is_dir() else start.parent).resolve()
    done = Git(where).call("rev-parse", "--is-bare-repository", "--show-toplevel")
    answer = done.stdout.splitlines()
    if not answer:  # no repository found (or git refused it, e.g. another user's)
        reason = (done.stderr.strip().splitlines() or [""])[-1]
        if not reason or "not a git repository" in reason:
            raise UsageError(f"{where} is not inside a git repository")
        raise UsageError(f"{where}: {reason.removeprefix('fatal: ')}")
    if answer[0] == "true":
        raise UsageError(f"{where} is a bare repository; gitorch needs a working tree")
    if not done.ok or len(answer) < 2:
        raise UsageError(f"{where} is inside a git directory; gitorch needs a working tree")
    return Path(answer[1])


class Git:
    """The one git gateway: runs ``git`` in one directory, with gitorch's safety settings.

    Every git process gitorch starts goes through here (a test checks that no other module runs
    ``git``): :data:`SAFE_CONFIG` on the command line, the environment cleaned of variables that would
    aim git at another repository, and the process run by :func:`~gitorch.process.runner.run_process`.
    """

    def __init__(
        self, cwd: Path, *, excludes_file: Path | None = None, git_dir: Path | None = None,
        objects: Path | None = None,
    ) -> None:
        self.cwd = Path(cwd)
        self.extra: tuple[str, ...] = ()
        self.env: dict[str, str] = {}
        if git_dir is not None:
            # NOTE: named, never found: a run workspace's `.git` link is a file its agent could rewrite
            self.extra += ("--git-dir", str(git_dir), "--work-tree", str(self.cwd))
        if objects is not None:
            self.env["GIT_OBJECT_DIRECTORY"] = str(objects)
        if excludes_file is not None:
            # a run worktree: artifacts excluded, and git's untracked cache on (kept in the worktree's own
            # index, so the user's repository is not affected) to make the scans of big trees cheaper
            self.extra += ("-c", f"core.excludesFile={excludes_file}", "-c", "core.untrackedCache=true")

    def argv(self, *args: str) -> list[str]:
        return ["git", *_SAFE_CONFIG, *self.extra, *args]

    def call(
        self, *args: str, input: bytes | str | None = None, env: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> Completed:
        """Run ``git args`` and return the whole run (exit code, stdout, stderr), failed or not.

        ``env`` is added to gitorch's environment after the repository-locating variables were removed.
        """
        full_env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        full_env.update(self.env)
        full_env.update(env or {})
        try:
            return run_process(self.argv(*args), cwd=self.cwd, env=full_env, stdin_text=input,
                               timeout=timeout, purpose="git")
        except OSError as exc:
            raise GitError(f"cannot run git in {self.cwd}: {exc.strerror or exc}") from None

    def run(
        self,
        *args: str,
        check: bool = True,
        input: bytes | str | None = None,
        env: dict[str, str] | None = None,
        text: bool = True,
        timeout: float | None = None,
    ):
        """Run ``git args`` and return its stdout (str, or bytes when ``text=False``); GitError on failure
        when ``check``."""
        done = self.call(*args, input=input, env=env, timeout=timeout)
        if check and not done.ok:
            err = done.stderr.strip().splitlines()
            cause = f"killed ({done.reason})" if done.timed_out else err[-1] if err else done.exit_code
            raise GitError(f"git {' '.join(args[:3])} failed in {self.cwd}: {cause}", argv=done.argv,
                           returncode=done.exit_code, stdout=done.stdout, stderr=done.stderr)
        return done.stdout if text else done.stdout_bytes

    def ok(self, *args: str) -> bool:
        return self.call(*args).ok

    def rev(self, rev: str) -> str | None:
        """The commit id ``rev`` names, or None."""
        done = self.call("rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        return done.stdout.strip() or None if done.ok else None


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
    out = Git(root).run("diff", "--numstat", "-M", *DIFF_SAFETY, base, tip)
    files = added = removed = 0
    for line in out.splitlines():
        a, r, _ = line.split("\t", 2)
        files += 1
        added += int(a) if a != "-" else 0
        removed += int(r) if r != "-" else 0
    return files, added, removed
