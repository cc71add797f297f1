"""The run's workspace: a checkout of the run branch whose git directory belongs to the run alone.

A run works in ``<git-common-dir>/gitorch/worktrees/<session>`` (or the user cache directory: see
``docs/fix-loop.md``), a working tree whose git directory is
``<git-common-dir>/gitorch/gitdirs/<session>.git``: its own HEAD, index, refs, stash, config, hooks and
info files. Of the user's repository it shares the objects only, and one way: it reads them through
``objects/info/alternates``, and gitorch's own commands write new objects straight into the user's
object store (``GIT_OBJECT_DIRECTORY``), so that a commit made in the workspace is published on the
user's branch ``gitorch/<session>`` with one ``update-ref``. No ref, stash, config, hook or attribute
of the user's repository is reachable through the workspace: an agent that commits, stashes, deletes a
branch or plants a hook or a filter there does it to a repository that gitorch owns and rewrites.

NOTE: gitorch's commands in a workspace name its git directory and work tree (``--git-dir``,
``--work-tree``) and never follow its ``.git`` file: that file is there for the agents' own git
commands, and an agent could point it elsewhere.

Sessions made before (``git worktree add``: one repository shared with the user's) are still opened
(:attr:`Worktree.linked`) for rollback and clean; ``gitorch resume`` moves them to a workspace of
their own.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from gitorch.vcs.git import DIFF_SAFETY, Git, GitError, git_common_dir, gitorch_dir

# Settings of the user's repository that a workspace keeps, so that its files are checked out and staged
# as in the user's checkout (line endings, file modes, clean/smudge filters such as Git LFS). Read from
# the repository's own configuration file; the user's global configuration applies to the workspace anyway.
COPIED_SETTINGS = re.compile(
    r"^(core\.(autocrlf|eol|safecrlf|symlinks|ignorecase|precomposeunicode|filemode|checkroundtripencoding)"
    r"|filter\..+|lfs\..+)$"
)


def workspace_git_dir(root: Path, session_id: str) -> Path:
    """``<git-common-dir>/gitorch/gitdirs/<session>.git``: the git directory of a session's workspace."""
    return gitorch_dir(root) / "gitdirs" / f"{session_id}.git"


@dataclass
class Worktree:
    """A run's workspace at ``path`` with its git directory ``git_dir``, publishing its commits to the user's
    repository at ``repo``; or, for a session made by an older gitorch, a linked worktree
    (``repo`` None, ``git_dir`` its administrative directory)."""

    path: Path
    git: Git
    git_dir: Path
    repo: Path | None = None

    @property
    def linked(self) -> bool:
        """A worktree of the user's repository (``git worktree add``), as older sessions made."""
        return self.repo is None

    # making and opening ---------------------------------------------------------------------------

    @classmethod
    def create(
        cls, root: Path, path: Path, git_dir: Path, start: str, *, branch: str | None,
        excludes_file: Path | None = None, new_branch: bool = True,
    ) -> Worktree:
        """Make the workspace at ``path`` (its git directory ``git_dir``) checked out at ``start``, on
        ``branch``: created in the user's repository as well when ``new_branch`` (it must not exist), else
        taken as it is. ``branch`` None: a detached throwaway checkout (a dry run)."""
        if git_dir.exists():
            raise GitError(f"cannot make a workspace: {git_dir} already exists")
        if path.exists() and any(path.iterdir()):
            raise GitError(f"cannot make a workspace: {path} is not empty")
        user = Git(root)
        start = user.run("rev-parse", "--verify", "-q", f"{start}^{{commit}}").strip()
        if branch is not None and new_branch:
            user.run("update-ref", "-m", "gitorch: start", f"refs/heads/{branch}", start, "")
        tree = cls._init(root, path, git_dir, excludes_file)
        tree.write_settings(branch)
        tree._point(branch, start)
        tree.git.run("reset", "-q", "--hard", start)
        tree._keep_index(start)
        return tree

    @classmethod
    def open(
        cls, root: Path, path: Path, git_dir: Path, excludes_file: Path | None = None
    ) -> Worktree | None:
        """The workspace of a session as it is on disk (its git directory's settings rewritten first: a
        run killed during an agent call may have left them as the agent made them), a linked worktree of
        an older session, or None when there is none."""
        if git_dir.is_dir() and path.is_dir():
            tree = cls(path, cls._git(root, path, git_dir, excludes_file), git_dir, root)
            tree.write_settings(tree._branch())
            return tree
        link = path / ".git"
        if not git_dir.exists() and link.is_file():
            admin = _link_target(link)
            common = git_common_dir(root).resolve()
            if admin is not None and admin.resolve().parent == common / "worktrees":
                return cls(path, Git(path, excludes_file=excludes_file), admin, None)
        return None

    @classmethod
    def attach(cls, root: Path, path: Path, git_dir: Path, branch: str, excludes_file: Path) -> Worktree:
        """The session's workspace for a run going on again: :meth:`open`, or made again from the run branch
        when it is gone (what is left in ``path`` is kept, for the caller's recovery to save as a patch)."""
        found = cls.open(root, path, git_dir, excludes_file)
        if found is not None:
            return found
        tip = Git(root).rev(f"refs/heads/{branch}")
        if tip is None:
            raise GitError(f"the run branch {branch} no longer exists")
        if not path.is_dir() or not any(path.iterdir()):
            shutil.rmtree(git_dir, ignore_errors=True)
            return cls.create(root, path, git_dir, tip, branch=branch, excludes_file=excludes_file,
                              new_branch=False)
        shutil.rmtree(git_dir, ignore_errors=True)
        tree = cls._init(root, path, git_dir, excludes_file)
        tree.write_settings(branch)
        tree._point(branch, tip)
        tree.git.run("read-tree", tip)
        return tree

    @classmethod
    def _git(cls, root: Path, path: Path, git_dir: Path, excludes_file: Path | None) -> Git:
        objects = Path(Git(root).run("rev-parse", "--path-format=absolute", "--git-path", "objects").strip())
        return Git(path, excludes_file=excludes_file, git_dir=git_dir, objects=objects)

    @classmethod
    def _init(cls, root: Path, path: Path, git_dir: Path, excludes_file: Path | None) -> Worktree:
        object_format = Git(root).run("rev-parse", "--show-object-format").strip()
        path.mkdir(parents=True, exist_ok=True)
        git_dir.parent.mkdir(parents=True, exist_ok=True)
        Git(git_dir.parent).run(
            "init", "-q", "--bare", "--template=", f"--object-format={object_format}", str(git_dir)
        )
        return cls(path, cls._git(root, path, git_dir, excludes_file), git_dir, root)

    def write_settings(self, branch: str | None) -> None:
        """(Re)write what gitorch owns in the workspace's git directory: its configuration (a few of the
        user's settings, nothing that runs a program but the user's own filters), its info files (the
        user's), its alternates (the user's objects), no hook, HEAD on ``branch``, and the ``.git`` link."""
        assert self.repo is not None, "a linked worktree has no settings of its own"
        user = Git(self.repo)
        common = git_common_dir(self.repo)
        object_format = user.run("rev-parse", "--show-object-format").strip()
        base = "[core]\n\trepositoryformatversion = {v}\n\tbare = false\n\tlogallrefupdates = true\n".format(
            v=0 if object_format == "sha1" else 1
        )
        if object_format != "sha1":
            base += f"[extensions]\n\tobjectformat = {object_format}\n"
        config = self.git_dir / "config"
        config.write_text(base, encoding="utf-8")
        listed = user.run("config", "--local", "--null", "--get-regexp", ".", check=False)
        settings = [entry.split("\n", 1) for entry in listed.split("\0") if entry]
        copied = [(key, value) for key, *rest in settings for value in rest if COPIED_SETTINGS.match(key)]
        copied.append(("gitorch.checkout", str(self.repo)))
        if any(key.startswith(("lfs.", "filter.lfs.")) for key, _ in copied):
            copied.append(("lfs.storage", str(common / "lfs")))
        for key, value in copied:
            user.run("config", "--file", str(config), "--add", key, value)
        hooks = self.git_dir / "hooks"
        shutil.rmtree(hooks, ignore_errors=True)
        hooks.mkdir()
        info = self.git_dir / "info"
        info.mkdir(exist_ok=True)
        for name in ("exclude", "attributes"):
            theirs, ours = common / "info" / name, info / name
            if theirs.is_file():
                shutil.copyfile(theirs, ours)
            else:
                ours.unlink(missing_ok=True)
        objects = Path(user.run("rev-parse", "--path-format=absolute", "--git-path", "objects").strip())
        alternates = self.git_dir / "objects" / "info" / "alternates"
        alternates.parent.mkdir(parents=True, exist_ok=True)
        alternates.write_text(f"{objects}\n", encoding="utf-8")
        if branch is not None:
            (self.git_dir / "HEAD").write_text(f"ref: refs/heads/{branch}\n", encoding="utf-8")
        (self.path / ".git").write_text(f"gitdir: {self.git_dir}\n", encoding="utf-8")

    def _point(self, branch: str | None, commit: str) -> None:
        """HEAD at ``commit``: on ``branch`` (the workspace's own copy of the run branch), or detached."""
        if branch is None:
            self.git.run("update-ref", "--no-deref", "HEAD", commit)
        else:
            self.git.run("update-ref", "-m", "gitorch: start", f"refs/heads/{branch}", commit)

    def _branch(self) -> str | None:
        try:
            head = (self.git_dir / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None

    def remove(self, root: Path) -> None:
        """Delete the workspace and its git directory (a linked worktree: ``git worktree remove``)."""
        self._guard()
        if self.linked:
            git = Git(root)
            git.run("worktree", "remove", "--force", "--force", str(self.path))
            git.run("worktree", "prune")
            return
        shutil.rmtree(self.path)
        shutil.rmtree(self.git_dir, ignore_errors=True)

    # reading --------------------------------------------------------------------------------------

    def _guard(self) -> None:
        # Destructive commands only ever run in a gitorch workspace: .../gitorch/worktrees/<id>.
        resolved = self.path.resolve()
        if resolved.parent.name != "worktrees" or resolved.parent.parent.name != "gitorch":
            raise GitError(f"refusing to reset {resolved}: not a gitorch run worktree")
        if not (resolved / ".git").is_file():
            raise GitError(f"refusing to reset {resolved}: not a gitorch run worktree")
        if not self.linked and self.git_dir.resolve().parent.name != "gitdirs":
            raise GitError(f"refusing to reset {resolved}: its git directory is not gitorch's")

    def head_is(self, branch: str, commit: str) -> bool:
        """Whether HEAD is the symbolic ref ``branch`` and the branch is at ``commit``, read from the files
        (False when unsure, e.g. a packed ref: the caller then asks git)."""
        try:
            if (self.git_dir / "HEAD").read_text(encoding="utf-8").strip() != f"ref: refs/heads/{branch}":
                return False
            common = self.git_dir
            if self.linked:
                common = self.git_dir / (self.git_dir / "commondir").read_text(encoding="utf-8").strip()
            return (common / "refs" / "heads" / branch).read_text(encoding="utf-8").strip() == commit
        except OSError:
            return False

    def admin_dir(self) -> Path:
        """Where the workspace's HEAD and index live (its git directory)."""
        return self.git_dir

    def clear_stale_locks(self, common_dir: Path, branch: str, ref_prefix: str) -> list[str]:
        """Remove lock files a killed gitorch process left (its index, HEAD and run refs only).

        Only call this holding the run lock of a session whose previous process is gone: then nothing
        else can be writing these files.
        """
        candidates = [common_dir / "refs" / "heads" / f"{branch}.lock"]
        candidates += [self.git_dir / "index.lock", self.git_dir / "HEAD.lock"]
        if not self.linked:
            candidates.append(self.git_dir / "refs" / "heads" / f"{branch}.lock")
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
        done = self.git.call("symbolic-ref", "-q", "HEAD")
        return done.stdout.strip() or None if done.ok else None

    def head_is_commit(self, commit: str) -> bool:
        return self.git.rev("HEAD") == commit

    def dirty(self) -> bool:
        """Uncommitted changes to tracked files, or untracked files that would be staged."""
        return bool(self.git.run("status", "--porcelain", "--untracked-files=normal").strip())

    # writing --------------------------------------------------------------------------------------

    def stage_all(self) -> None:
        """Stage everything in the worktree (new files included, ignored and artifact files left out)."""
        self.git.run("add", "-A")

    def staged_patch(self, base: str) -> str:
        """The staged changes against ``base`` as a git patch (renames found, binary included)."""
        return self.git.run("diff", "--cached", "--binary", "-M", *DIFF_SAFETY, base)

    def commit_staged(self, parent: str, message: str, branch: str, env: dict[str, str]) -> str:
        """Commit the index on top of ``parent``; move ``branch`` there (atomically, only from ``parent``).

        The user's run branch moves first: it is the one that counts (``gitorch resume`` takes its tip),
        then the workspace's own copy of it.
        """
        tree = self.git.run("write-tree").strip()
        commit = self.git.run(
            "commit-tree", tree, "-p", parent, "-F", "-", input=message.encode(), env=env
        ).strip()
        ref = f"refs/heads/{branch}"
        if self.repo is not None:
            Git(self.repo).run("update-ref", "-m", "gitorch: commit", ref, commit, parent)
        self.git.run("update-ref", "-m", "gitorch: commit", ref, commit, parent)
        return commit

    def reattach(self, branch: str) -> None:
        """Point the worktree's HEAD back at the run branch (an agent may have switched or detached it)."""
        self.git.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

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
        kept = self.git_dir / f"gitorch-index-{commit}"
        if not kept.is_file() or not self.head_is_commit(commit):
            self.restore(commit)
            return
        shutil.copyfile(kept, self.git_dir / "index")
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
        return self.git.ok("diff-files", "--quiet")

    def _keep_index(self, commit: str) -> None:
        """Keep a copy of the index matching ``commit`` (see :meth:`roll_back`); older copies go."""
        index = self.git_dir / "index"
        if not index.is_file():
            return
        for old in self.git_dir.glob("gitorch-index-*"):
            if old.name != f"gitorch-index-{commit}":
                old.unlink(missing_ok=True)
        shutil.copyfile(index, self.git_dir / f"gitorch-index-{commit}")


def _link_target(link: Path) -> Path | None:
    """The git directory a ``.git`` file names (``gitdir: <path>``)."""
    try:
        text = link.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir: "):
        return None
    target = Path(text.removeprefix("gitdir: "))
    return target if target.is_absolute() else (link.parent / target)


def remove_leftovers(root: Path, path: Path, git_dir: Path) -> None:
    """Delete what is left of a session's workspace that cannot be opened (a half-made one, or a linked
    worktree whose administrative directory is gone)."""
    if path.exists():
        resolved = path.resolve()
        if resolved.parent.name != "worktrees" or resolved.parent.parent.name != "gitorch":
            raise GitError(f"refusing to remove {resolved}: not a gitorch run worktree")
        shutil.rmtree(resolved)
    shutil.rmtree(git_dir, ignore_errors=True)
    Git(root).run("worktree", "prune")
