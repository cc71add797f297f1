"""Containment of a run: where its agents and tests run, and what is checked around them.

:meth:`Containment.prepare` reads the ``sandbox`` setting (``auto``, ``required``, ``off``) and tries
bubblewrap once: when it can start, every agent call and test run of the run happens in a
:class:`~gitorch.process.sandbox.Bubblewrap` sandbox (only the run's workspace, the call's own folder,
a private temporary folder and the paths the agent declares are writable); when it cannot, the run says
so once and falls back to :class:`~gitorch.process.sandbox.Supervised` (no process outlives its call)
plus a guard of the checkout, ignored files included — unless the setting is ``required``.

Either way, around each of those processes (:meth:`Containment.policy`, a launch policy the run sets
with :func:`~gitorch.process.launch.using_policy`), and around each call of an agent that runs inside
gitorch's own process (:meth:`Containment.watching`), the state of :mod:`gitorch.vcs.guard` is taken
before and compared after, before gitorch runs anything else:

- the run's workspace git directory changed (an agent committed, stashed, planted a hook or a filter
  there): it is rewritten as it was, and the attempt is rejected (:meth:`take_workspace_changes`);
- the user's repository changed: it is put back as it was, the version found moved aside, and
  :class:`~gitorch.vcs.guard.ContainmentBreach` stops the run.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from gitorch.errors import ConfigError
from gitorch.process.launch import Launch, LaunchPolicy, Purpose
from gitorch.process.sandbox import (
    CONTAINED,
    Bubblewrap,
    Supervised,
    bubblewrap_problem,
    bwrap_executable,
)
from gitorch.vcs.guard import (
    ContainmentBreach,
    UserRepository,
    checkout_area,
    describe,
    repository_areas,
    silent_in_workspace,
    workspace_areas,
)
from gitorch.vcs.vault import Restoration, Signature, Vault
from gitorch.vcs.workspace import Worktree

SandboxMode = Literal["auto", "required", "off"]
# Copies of the checkout's files that git cannot give back (untracked, ignored, modified): limits.
CHECKOUT_FILE_LIMIT = 32 * 1024 * 1024
CHECKOUT_TOTAL_LIMIT = 512 * 1024 * 1024
GIT_DIR_TOTAL_LIMIT = 512 * 1024 * 1024
PURPOSE_WORDS = {"agent": "agent call", "tests": "test run"}


@dataclass
class _Before:
    repository: dict[str, Signature] = field(default_factory=dict)
    checkout: dict[str, Signature] | None = None
    index: dict[str, tuple[str, str]] = field(default_factory=dict)


class Containment:
    """One run's containment (see the module docstring). ``store`` holds the copies taken before each
    process (deleted by :meth:`close`); ``displaced`` receives what a breach found in their place."""

    def __init__(
        self, root: Path, store: Path, sandbox: Bubblewrap | None, *, mode: SandboxMode, problem: str | None,
    ) -> None:
        self.repo = UserRepository.at(root)
        self.store = Path(store)
        self.sandbox = sandbox
        self.mode = mode
        self.problem = problem
        self.workspace: Worktree | None = None
        self.breaches = 0
        # NOTE: ``gitorch fix --jobs`` makes calls from several threads at once. Their watches share one
        # window: the first to start takes the state before, the last to end compares (a change made by
        # any of them is found and put back); a thread's nested blocks are covered by its outer one.
        self._lock = threading.RLock()
        self._local = threading.local()
        self._open = 0
        self._window: _Before | None = None
        self._workspace_changes: list[str] = []
        self._workspace_vault: Vault | None = None
        self._repository = Vault(
            self.store / "repository", repository_areas(self.repo, own_work=sandbox is None),
            max_total=GIT_DIR_TOTAL_LIMIT,
        )
        self._checkout = Vault(
            self.store / "checkout", [checkout_area(self.repo)],
            max_file=CHECKOUT_FILE_LIMIT, max_total=CHECKOUT_TOTAL_LIMIT,
        )

    @classmethod
    def prepare(cls, mode: SandboxMode, root: Path, store: Path) -> Containment:
        """The containment for a run in ``root``: bubblewrap tried once (unless ``off``); a
        :class:`~gitorch.errors.ConfigError` when it cannot start and ``mode`` is ``required``."""
        if mode == "off":
            return cls(root, store, None, mode=mode, problem="the configuration says sandbox = \"off\"")
        executable = bwrap_executable()
        problem = bubblewrap_problem(executable)
        if problem is not None and mode == "required":
            raise ConfigError(
                f'sandbox = "required" but {problem}: install bubblewrap (Debian/Ubuntu: apt-get install '
                f'bubblewrap) or set sandbox = "auto" to run with the fallback guard'
            )
        sandbox = Bubblewrap(executable) if problem is None and executable else None
        return cls(root, store, sandbox, mode=mode, problem=problem)

    @staticmethod
    def keep_leftovers(store: Path) -> Path | None:
        """Copies a killed run left (its process died during an agent call or a test run, before it could
        compare): moved aside into ``displaced/`` (they may be the only copy of a file that call changed),
        never overwritten by the next run's; returns where they are, or None."""
        if not Path(store).is_dir() or not any(Path(store).iterdir()):
            return None
        n = 1
        while (target := Path(store).parent / "displaced" / f"copies-before-a-killed-call-{n}").exists():
            n += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        Path(store).rename(target)
        return target

    @property
    def sandboxed(self) -> bool:
        return self.sandbox is not None

    def describe(self) -> str:
        """One sentence for the user: how agents and tests run."""
        if self.sandbox is not None:
            return (
                "sandbox: agents and tests run in bubblewrap (your repository is read-only to them; "
                "only the run's workspace and temporary folders are writable)"
            )
        return (
            f"sandbox: NOT available ({self.problem}); agents and tests run on the host, and your "
            f"checkout (ignored files included), refs, stash, config and hooks are compared before and "
            f"after each of them, and put back if they changed"
        )

    def protect_links(self, paths: list[Path]) -> None:
        """Keep these workspaces' ``.git`` links read-only in the sandbox too (the job workspaces of
        ``gitorch fix --jobs``; a path that does not exist is skipped)."""
        if self.sandbox is not None:
            links = tuple(Path(p) / ".git" for p in paths)
            self.sandbox = replace(self.sandbox, read_only=(*self.sandbox.read_only, *links))

    def use_workspace(self, tree: Worktree) -> None:
        """Watch the run's workspace ``tree`` too (and keep its ``.git`` link read-only in the sandbox)."""
        self.workspace = tree
        if tree.linked:
            self._workspace_vault = None
            return
        self._workspace_vault = Vault(self.store / "workspace", workspace_areas(tree.git_dir, tree.path))
        if self.sandbox is not None:
            self.sandbox = replace(self.sandbox, read_only=(tree.path / ".git",))

    def policy(self) -> LaunchPolicy:
        """The launch policy of the run (set it around the run with ``using_policy``)."""
        return ContainedLaunch(self)

    def launcher(self) -> LaunchPolicy:
        """What starts a contained process: the sandbox, or the supervisor without one."""
        return self.sandbox if self.sandbox is not None else Supervised()

    def prime(self) -> list[str]:
        """Take the first copies now (the slow one, without the sandbox) rather than at the first agent call;
        returns the files too big to copy, which a change could not bring back."""
        self._before(checkout=self.sandbox is None)
        return [self._name(key) for key in self._checkout.unprotected]

    def take_workspace_changes(self) -> list[str]:
        """What was changed (and put back) in the workspace's git directory since the last call."""
        changes, self._workspace_changes = self._workspace_changes, []
        return changes

    def close(self) -> None:
        """Delete the copies (the run is over)."""
        self._repository.discard()
        self._checkout.discard()
        if self._workspace_vault is not None:
            self._workspace_vault.discard()
        shutil.rmtree(self.store, ignore_errors=True)

    # around a process or a call ---------------------------------------------------------------------

    @contextlib.contextmanager
    def watching(self, during: str, *, checkout: bool, purpose: str = "agent") -> Iterator[None]:
        """Compare what :mod:`gitorch.vcs.guard` watches before and after the block (``checkout``: the
        checkout's files too); put back what changed, and raise ``ContainmentBreach`` for the user's
        repository. Nested blocks are covered by the outermost one; the user's repository is watched in
        one window shared by the blocks of other threads open at the same time (see ``__init__``), the
        run's workspace by each block of a thread that works there (not a job's)."""
        if getattr(self._local, "depth", 0):
            yield
            return
        in_workspace = not getattr(self._local, "job", False)
        workspace = self._workspace_vault.refresh() if in_workspace and self._workspace_vault else None
        with self._lock:
            if self._open == 0:
                self._window = self._before(checkout=checkout)
            elif checkout and self._window is not None and self._window.checkout is None:
                self._watch_checkout(self._window)  # a later call watches the checkout from its start
            self._open += 1
        self._local.depth = 1
        try:
            yield
        finally:  # an interrupted call is checked too; a change found replaces the interruption
            self._local.depth = 0
            try:
                if workspace is not None:
                    self._after_workspace(workspace, during, purpose)
            finally:
                with self._lock:
                    self._open -= 1
                    if self._open == 0 and self._window is not None:
                        before, self._window = self._window, None
                        self._after(before, during, purpose)

    @contextlib.contextmanager
    def own_writes(self, refs: list[str]) -> Iterator[None]:
        """Around gitorch's own writes of ``refs`` in the user's repository (a commit landing while job
        calls run, ``gitorch fix --jobs``): no window ends during the block, and an open one takes the
        refs as they are after it, so that its end does not take them for a call's change."""
        with self._lock:
            try:
                yield
            finally:
                window = self._window
                if window is not None:
                    wanted = {f"git/{ref}" for ref in refs} | {f"git/logs/{ref}" for ref in refs}
                    now = self._repository.adopt(wanted)
                    for key in wanted:
                        if key in now:
                            window.repository[key] = now[key]
                        else:
                            window.repository.pop(key, None)

    @contextlib.contextmanager
    def watching_job_workspace(self, tree: Worktree, name: str) -> Iterator[list[str]]:
        """Around a job's call in a workspace of its own (``gitorch fix --jobs``): that workspace's git
        directory compared before and after, what changed put back; the list given is filled with the
        changes that reject the attempt (the run's own workspace is watched by :meth:`watching`)."""
        vault = Vault(self.store / name, workspace_areas(tree.git_dir, tree.path))
        before = vault.refresh()
        found: list[str] = []
        self._local.job = True
        try:
            yield found
        finally:
            self._local.job = False
            changed = vault.changes(before)
            if changed:
                vault.restore(before, changed, self.store / f"{name}-displaced")
                found += [key.partition("/")[2] or key for key in changed if not silent_in_workspace(key)]
            vault.discard()

    def _before(self, *, checkout: bool) -> _Before:
        state = _Before()
        state.repository = self._repository.refresh()
        if checkout:
            self._watch_checkout(state)
        elif self.sandbox is None:
            state.index = self.repo.index_entries()
        return state

    def _watch_checkout(self, state: _Before) -> None:
        state.index = self.repo.index_entries()
        modified = self.repo.modified()
        prefix = "checkout/"

        def keep(key: str) -> bool:
            rel = key.removeprefix(prefix)
            return rel not in state.index or rel in modified

        state.checkout = self._checkout.refresh(keep)

    def _after_workspace(self, before: dict[str, Signature], during: str, purpose: str) -> None:
        """The run workspace's git directory, put back before gitorch runs git there again."""
        assert self._workspace_vault is not None
        changed = self._workspace_vault.changes(before)
        if changed:
            self._workspace_vault.restore(before, changed, self.store / "workspace-displaced")
            loud = [key.partition("/")[2] or key for key in changed if not silent_in_workspace(key)]
            if loud and purpose == "tests":
                raise ContainmentBreach(
                    during, [f"{self.workspace.git_dir}/{k}" if self.workspace else k for k in loud],
                    Restoration(restored=loud),
                )
            self._workspace_changes += loud

    def _after(self, before: _Before, during: str, purpose: str) -> None:
        displaced = self.store.parent / "displaced" / f"{self.breaches + 1}"
        # 2. the user's git directory and git configuration, then (through git, now safe) the index
        changed = self._repository.changes(before.repository)
        index_keys = [k for k in changed if k.endswith("/index") and k.startswith("git/")]
        others = [k for k in changed if k not in index_keys]
        restoration = Restoration()
        if others:
            restoration = self._repository.restore(before.repository, others, displaced)
        refreshed = bool(index_keys) and bool(before.index) and self.repo.index_entries() == before.index
        if index_keys and (others or not refreshed):
            # NOTE: an index whose entries did not change (a `git status` refreshed its stat data) is no
            # change by itself; it is put back with the rest of a change, byte for byte
            _merge(restoration, self._repository.restore(before.repository, index_keys, displaced))
        found = others + ([] if refreshed else index_keys)
        # 3. the checkout's files
        if before.checkout is not None:
            files = self._checkout.changes(before.checkout)
            if files:

                def from_index(key: str, target: Path) -> bool:
                    rel = key.removeprefix("checkout/")
                    entry = before.index.get(rel)
                    return entry is not None and self.repo.write_from_index(rel, entry, target)

                _merge(restoration, self._checkout.restore(before.checkout, files, displaced, from_index))
                found += files
        if found:
            self.breaches += 1
            name = self._name
            restoration.restored = [name(k) for k in restoration.restored]
            restoration.removed = [name(k) for k in restoration.removed]
            restoration.lost = [name(k) for k in restoration.lost]
            raise ContainmentBreach(during, sorted(name(k) for k in found), restoration)

    def _name(self, key: str) -> str:
        vault = self._checkout if key.startswith("checkout/") else self._repository
        return describe(key, vault.path(key), self.repo)


@dataclass
class AuditLaunch(LaunchPolicy):
    """The launch policy of ``gitorch audit``, which works in the user's checkout: its agents (which may
    not write where they run) and test runs in the sandbox, or under the supervisor when bubblewrap
    cannot start (nothing to put back: an audit has no copy to restore from). Bubblewrap is tried at the
    first agent call or test run, not before: an audit by analyzers alone starts nothing contained."""

    mode: SandboxMode
    _launcher: LaunchPolicy | None = field(default=None, init=False, repr=False)

    def launcher(self) -> LaunchPolicy:
        if self._launcher is None:
            executable = bwrap_executable() if self.mode != "off" else None
            problem = bubblewrap_problem(executable) if self.mode != "off" else 'sandbox = "off"'
            if problem is not None and self.mode == "required":
                raise ConfigError(
                    f'sandbox = "required" but {problem}: install bubblewrap (Debian/Ubuntu: apt-get install '
                    f'bubblewrap) or set sandbox = "auto"'
                )
            self._launcher = Bubblewrap(executable) if problem is None and executable else Supervised()
        return self._launcher

    def confines(self, purpose: Purpose) -> bool:
        return purpose in CONTAINED and isinstance(self.launcher(), Bubblewrap)

    @contextlib.contextmanager
    def start(self, launch: Launch) -> Iterator[Launch]:
        if launch.purpose not in CONTAINED:
            yield launch
            return
        with self.launcher().start(launch) as started:
            yield started


def _merge(into: Restoration, more: Restoration) -> None:
    into.restored += more.restored
    into.removed += more.removed
    into.lost += more.lost
    into.displaced = into.displaced or more.displaced


@dataclass(frozen=True)
class ContainedLaunch(LaunchPolicy):
    """The run's launch policy: agents and tests started by :meth:`Containment.launcher` and watched by
    :meth:`Containment.watching`; git and analyzers started as they are."""

    containment: Containment

    def confines(self, purpose: Purpose) -> bool:
        return self.containment.sandboxed and purpose in CONTAINED

    @contextlib.contextmanager
    def start(self, launch: Launch) -> Iterator[Launch]:
        launcher = self.containment.launcher()
        if launch.purpose not in CONTAINED:
            with launcher.start(launch) as started:
                yield started
            return
        during = f"{Path(launch.argv[0]).name} ({PURPOSE_WORDS.get(launch.purpose, launch.purpose)})"
        checkout = not self.containment.sandboxed
        with (
            self.containment.watching(during, checkout=checkout, purpose=launch.purpose),
            launcher.start(launch) as started,
        ):
            yield started
