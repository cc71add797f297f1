"""Git access (gitpython): finding the repository and, for the fix loop, worktrees, refs and commits."""

from __future__ import annotations

from pathlib import Path

from gitorch.errors import UsageError


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
