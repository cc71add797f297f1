"""What is watched around an agent call or a test run, and how a change is put back.

The user's repository (:func:`repository_areas`):

- its git directory but the object store: configuration, hooks, ``info/`` (attributes, exclude), refs
  and their logs, the stash, ``packed-refs``, the files of its other worktrees (gitorch's own refs and
  folder left out);
- the user's git configuration files (``~/.gitconfig``, ``$XDG_CONFIG_HOME/git/``, ``/etc/gitconfig``):
  a filter or a hook path set there reaches the repository just as well;
- only when the process is not sandboxed: the checkout itself (every file, ignored ones included), its
  HEAD, its index (by content: a ``git status`` that refreshes stat data is no change), its checked-out
  branch, and what fetches and resets write (``FETCH_HEAD``, ``ORIG_HEAD``, remote-tracking refs). With
  the sandbox the user may keep working, committing and fetching during a run; without it, gitorch
  cannot tell the user's edits from the agent's, and stops either way.

The run's workspace (:func:`workspace_areas`): its own git directory and ``.git`` link, which gitorch
rewrites when they change (a changed index is put back silently; anything else rejects the attempt).

A change in the user's repository raises :class:`ContainmentBreach` once everything was put back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gitorch.errors import ExitCode, GitorchError
from gitorch.vcs.git import Git
from gitorch.vcs.vault import Area, Restoration

# The git directory's parts that are never watched: the object store (big, and only ever added to; see
# the docs), gitorch's own folder (its ledger is written while an agent runs), Git LFS's object store.
# gitorch's refs are watched: nothing of gitorch's writes them while an agent or a test runs.
_GIT_DIR_SKIPPED = ("objects", "gitorch", "lfs")
# What the user's own fetches and resets write: left out with the sandbox, like HEAD, the index and the
# checked-out branch (the user may keep working during a run; nothing in the sandbox can write them).
_USERS_OWN_WORK = ("FETCH_HEAD", "ORIG_HEAD", "refs/remotes", "logs/refs/remotes")
# Files of a workspace's git directory that gitorch puts back silently when they change: the index (an
# agent's `git status` refreshes it), gitorch's kept copies of it, logs and notes git leaves. The others
# (configuration, hooks, info, HEAD, refs, alternates) reject the attempt.
WORKSPACE_SILENT = ("index", "gitorch-index-", "logs/", "ORIG_HEAD", "FETCH_HEAD", "COMMIT_EDITMSG")


class ContainmentBreach(GitorchError):
    """Something an agent or a test run did reached the user's repository. Everything that could be was put
    back as it was before the process started; the versions found are kept under ``displaced``."""

    exit_code = ExitCode.NEEDS_HUMAN

    def __init__(self, during: str, changed: list[str], restoration: Restoration) -> None:
        self.during = during
        self.changed = changed
        self.restoration = restoration
        shown = ", ".join(changed[:10]) + (f" and {len(changed) - 10} more" if len(changed) > 10 else "")
        message = f"your repository changed while {during} ran ({shown}): gitorch stopped the run"
        put_back = len(restoration.restored) + len(restoration.removed)
        if put_back:
            message += f" and put {put_back} file(s) back as they were before"
        if restoration.displaced is not None:
            message += f"; the versions it found are kept in {restoration.displaced}"
        if restoration.lost:
            message += (
                f"; NOT restored (no copy: bigger than the backup limits): {', '.join(restoration.lost[:10])}"
            )
        super().__init__(message)


@dataclass(frozen=True)
class UserRepository:
    """The user's checkout, its own git directory (HEAD, index) and the common one."""

    checkout: Path
    git_dir: Path
    common_dir: Path

    @classmethod
    def at(cls, root: Path) -> UserRepository:
        out = Git(root).run("rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir")
        git_dir, common = out.splitlines()[:2]
        return cls(Path(root), Path(git_dir), Path(common))

    def own_files(self) -> set[str]:
        """The common directory's paths of the checkout's HEAD, index and checked-out branch (with logs)."""
        prefix = "" if self.git_dir == self.common_dir else f"{self.git_dir.relative_to(self.common_dir)}/"
        own = {f"{prefix}HEAD", f"{prefix}index", f"{prefix}logs/HEAD"}
        try:
            head = (self.git_dir / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            return own
        if head.startswith("ref: "):
            ref = head.removeprefix("ref: ")
            own |= {ref, f"logs/{ref}"}
        return own

    def index_entries(self) -> dict[str, tuple[str, str]]:
        """path → (mode, object id) of the checkout's index, read without writing anything."""
        out = Git(self.checkout).run("ls-files", "-s", "-z", env={"GIT_OPTIONAL_LOCKS": "0"}, check=False)
        entries = {}
        for record in filter(None, out.split("\0")):
            meta, _, path = record.partition("\t")
            mode, oid, _stage = meta.split()
            entries[path] = (mode, oid)
        return entries

    def modified(self) -> set[str]:
        """Tracked files whose content may differ from the index (by stat data), read without writing."""
        out = Git(self.checkout).run(
            "diff-files", "--name-only", "-z", env={"GIT_OPTIONAL_LOCKS": "0"}, check=False
        )
        return set(filter(None, out.split("\0")))

    def write_from_index(self, rel: str, entry: tuple[str, str], target: Path) -> bool:
        """Write the tracked file ``rel`` as the index has it (through the user's own filters); True when it
        was written."""
        mode, oid = entry
        done = Git(self.checkout).call(
            "cat-file", "--filters", f"--path={rel}", oid, env={"GIT_OPTIONAL_LOCKS": "0"}
        )
        if not done.ok:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            os.symlink(done.stdout_bytes.decode("utf-8", "surrogateescape"), target)
        else:
            target.write_bytes(done.stdout_bytes)
            target.chmod(0o755 if mode == "100755" else 0o644)
        return True


def user_config_files() -> list[Area]:
    """The user's and the system's git configuration files (watched whether they exist or not)."""
    home = Path(os.environ.get("HOME") or Path.home())
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    areas = [
        Area("home", home, files=(".gitconfig",)),
        Area("xdg-git", xdg / "git", files=("config", "attributes", "ignore")),
        Area("etc", Path("/etc"), files=("gitconfig",)),
    ]
    chosen = os.environ.get("GIT_CONFIG_GLOBAL")
    if chosen:
        areas.append(Area("git-config-global", Path(chosen).parent, files=(Path(chosen).name,)))
    return areas


def repository_areas(repo: UserRepository, *, own_work: bool) -> list[Area]:
    """The user's git directory (without the checkout's HEAD, index and branch unless ``own_work``) and
    their git configuration files."""
    left_out = set() if own_work else repo.own_files() | set(_USERS_OWN_WORK)

    def skip(rel: str) -> bool:
        return (
            rel in _GIT_DIR_SKIPPED
            or rel in left_out
            or (rel.rsplit("/", 1)[-1] == "objects" and not rel.startswith(("refs/", "logs/")))
            or rel.endswith("/index")  # another worktree's index: its user's, refreshed by any git status
        )

    return [Area("git", repo.common_dir, skip=skip), *user_config_files()]


def checkout_area(repo: UserRepository) -> Area:
    """Every file of the checkout, ignored ones included (``.git`` left out, at any depth)."""
    return Area("checkout", repo.checkout, skip=lambda rel: rel.rsplit("/", 1)[-1] == ".git")


def workspace_areas(git_dir: Path, path: Path) -> list[Area]:
    """A workspace's git directory (without its object store, whose alternates are watched, and without
    ``gitorch/``, where tools keep caches) and its ``.git`` link."""

    def skip(rel: str) -> bool:
        return rel == "gitorch" or (rel.startswith("objects/") and rel != "objects/info")

    return [Area("workspace", git_dir, skip=skip), Area("workspace-link", path, files=(".git",))]


def silent_in_workspace(key: str) -> bool:
    """A workspace change gitorch puts back without rejecting the attempt (see :data:`WORKSPACE_SILENT`)."""
    label, _, rel = key.partition("/")
    return label == "workspace" and rel.startswith(WORKSPACE_SILENT)


def describe(key: str, path: Path, repo: UserRepository) -> str:
    """How a watched path is named to the user: relative to the checkout, else absolute."""
    try:
        return path.relative_to(repo.checkout).as_posix()
    except ValueError:
        return str(path)
