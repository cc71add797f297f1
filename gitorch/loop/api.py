"""The fix loop's entry points: start a run, resume one, or show what one would do.

:func:`create_session` makes a session (lock, ledger, branch, worktree, state) and returns its
:class:`~gitorch.loop.runner.FixLoop` without running it; :func:`start_run` runs it to its end.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gitorch.audit.discovery import discover
from gitorch.audit.run import choose_agent, make_agent, resolve_path, run_audit
from gitorch.config import Config
from gitorch.errors import UsageError
from gitorch.loop import events
from gitorch.loop.human import LoopUI
from gitorch.loop.ledger import Ledger
from gitorch.loop.lock import RunLock
from gitorch.loop.planner import fix_names
from gitorch.loop.recovery import recover
from gitorch.loop.runner import FixLoop
from gitorch.loop.session import (
    FixOptions,
    SessionState,
    ledger_for,
    load_session,
    new_session_id,
    worktree_path,
)
from gitorch.models import AgentContext, FixRequest
from gitorch.plugin.manager import Plugins
from gitorch.score import FORMULA_VERSION
from gitorch.services.atomic import atomic_write
from gitorch.services.budget import Budget
from gitorch.vcs.containment import Containment
from gitorch.vcs.git import (
    ARTIFACT_EXCLUDES,
    Git,
    format_trailers,
    git_common_dir,
    gitorch_dir,
    identity_env,
    iteration_ref,
    run_branch,
    snapshot_dirty,
    update_ref,
)
from gitorch.vcs.workspace import Worktree, workspace_git_dir


def start_run(
    root: Path, config: Config, plugins: Plugins, options: FixOptions, ui: LoopUI | None = None
) -> SessionState | None:
    """Create a session (branch, worktree, ledger) and run the loop to its end (None for a dry run)."""
    ui = ui or LoopUI()
    if options.dry_run:
        base = _check_request(root, config, plugins, options)
        dry_run(root, config, plugins, options, base, ui)
        return None
    return create_session(root, config, plugins, options, ui).run()


def create_session(
    root: Path, config: Config, plugins: Plugins, options: FixOptions, ui: LoopUI | None = None
) -> FixLoop:
    """Check the request, take the repository's lock, and make the session: its ledger, its branch
    ``gitorch/<id>`` and worktree, its first state. Returns the loop, not yet run (:meth:`FixLoop.run`
    releases the lock when it ends)."""
    ui = ui or LoopUI()
    base = _check_request(root, config, plugins, options)
    session_id = new_session_id()
    containment = Containment.prepare(config.sandbox, root, ledger_for(root, session_id).dir / "containment")
    lock = RunLock(root)
    lock.acquire(session_id)
    try:
        ledger = ledger_for(root, session_id).create()
        start, snapshot = base, None
        if options.include_dirty:
            snapshot = _snapshot_commit(root, base, session_id)
            start = snapshot or base
        branch = run_branch(session_id)
        path = worktree_path(root, session_id, _worktree_in_cache(config, plugins, options))
        worktree = Worktree.create(
            root, path, workspace_git_dir(root, session_id), start, branch=branch,
            excludes_file=_excludes_file(root),
        )
        containment.use_workspace(worktree)
        update_ref(root, iteration_ref(session_id, 0), start, message="gitorch: start")
        state = SessionState(
            id=session_id,
            repo_root=str(root),
            worktree=str(path),
            branch=branch,
            base_commit=base,
            green_commit=start,
            snapshot_commit=snapshot,
            options=options,
            score_formula=FORMULA_VERSION,
        )
        ledger.save(state)
        ledger.append(
            events.SessionStart(
                options=options.model_dump(), base=base, branch=branch, worktree=str(path), snapshot=snapshot
            )
        )
        ui.progress(f"session {session_id}: branch {branch}, worktree {path}")
        _announce(containment, ledger, ui)
        return FixLoop(root, config, plugins, state, ledger, worktree, ui, containment)
    except BaseException:
        lock.release(session_id)
        containment.close()
        raise


def resume_run(
    root: Path,
    config: Config,
    plugins: Plugins,
    session_id: str | None = None,
    *,
    budget_usd: float | None = None,
    yes: bool | None = None,
    ui: LoopUI | None = None,
) -> SessionState:
    """Continue a run stopped by a crash, Ctrl-C, a cap or the budget, from its ledger."""
    ui = ui or LoopUI()
    state, ledger = load_session(root, session_id)
    if state.cleaned and Git(root).rev(f"refs/heads/{state.branch}") is None:
        raise UsageError(
            f"session {state.id} ended before its first commit and left no branch to resume "
            f"({state.stop_detail}); start a new run"
        )
    if state.stop_reason == "target" and not state.rollbacks:
        raise UsageError(f"session {state.id} already reached its target; nothing to resume")
    containment = Containment.prepare(config.sandbox, root, ledger.dir / "containment")
    lock = RunLock(root)
    note = lock.acquire(state.id, take_over_stale_of=state.id)
    try:
        if note:
            ui.progress(note)
        previous = events.Resume.Previous(status=state.status, stop_reason=state.stop_reason, pid=state.pid)
        if budget_usd is not None:
            state.options.budget_usd = budget_usd
        if yes is not None:
            state.options.yes = yes
        if state.stop_reason == "iterations" and state.iterations_done >= state.options.max_iterations:
            raise UsageError(
                f"session {state.id} used its {state.options.max_iterations} iterations; "
                f"nothing to resume (start a new run, or raise max_iterations in the configuration)"
            )
        _reopen(state)
        ledger.append(events.Resume(previous=previous, lock_note=note, budget_usd=state.options.budget_usd))
        kept = Containment.keep_leftovers(containment.store)
        if kept is not None:
            ui.progress(
                f"the previous process was killed during an agent call or a test run; the copies of your "
                f"files taken before it are kept in {kept} (compare them if something looks wrong)"
            )
        worktree = _resumable_workspace(root, state, ledger, ui, stale=bool(note))
        containment.use_workspace(worktree)
        _announce(containment, ledger, ui)
        loop = FixLoop(root, config, plugins, state, ledger, worktree, ui, containment)
        loop.recover()
    except BaseException:
        lock.release(state.id)
        containment.close()
        raise
    return loop.run()


def _resumable_workspace(
    root: Path, state: SessionState, ledger: Ledger, ui: LoopUI, *, stale: bool
) -> Worktree:
    """The session's workspace, ready for the loop. A linked worktree (a session of an older gitorch) is
    first brought back to its last green commit (half-done work kept as a patch), then replaced by a
    workspace with its own git directory. ``stale``: the previous process died, its git locks with it."""
    path, git_dir, excludes = Path(state.worktree), workspace_git_dir(root, state.id), _excludes_file(root)
    found = Worktree.open(root, path, git_dir, excludes)
    if stale and found is not None:
        removed = found.clear_stale_locks(git_common_dir(root), state.branch, f"refs/gitorch/{state.id}")
        if removed:
            ledger.append(events.StaleGitLocksRemoved(paths=removed))
    if found is None or not found.linked:
        return Worktree.attach(root, path, git_dir, state.branch, excludes)
    recover(found, state, ledger)
    found.remove(root)
    tree = Worktree.create(
        root, path, git_dir, state.green_commit, branch=state.branch, excludes_file=excludes, new_branch=False
    )
    ledger.append(events.WorkspaceMigrated(worktree=str(path), git_dir=str(git_dir)))
    ui.progress(
        f"session {state.id}: its linked worktree is now a workspace with a git directory of its own "
        f"({git_dir})"
    )
    return tree


def _announce(containment: Containment, ledger: Ledger, ui: LoopUI) -> None:
    """Say once how agents and tests will run, and which files the fallback guard could not copy."""
    unprotected = containment.prime()
    ui.progress(containment.describe())
    if unprotected:
        more = f" and {len(unprotected) - 5} more" if len(unprotected) > 5 else ""
        shown = ", ".join(unprotected[:5]) + more
        ui.progress(f"note: {len(unprotected)} file(s) of your checkout are too big to back up ({shown}); "
                    f"a change to them would be detected but could not be undone")
    ledger.append(
        events.Sandbox(
            mode=containment.mode, sandboxed=containment.sandboxed, detail=containment.describe(),
            unprotected=unprotected,
        )
    )


def _reopen(state: SessionState) -> None:
    """The state of a run going on again: no stop, this process, a fresh chance for every finding."""
    state.status, state.stop_reason, state.stop_detail, state.exit_code, state.ended_at = (
        "running",
        None,
        "",
        None,
        None,
    )
    state.pid = os.getpid()
    state.no_progress = 0
    state.failed_agents = {}
    state.declined = []


def dry_run(root: Path, config: Config, plugins: Plugins, options: FixOptions, base: str, ui: LoopUI) -> None:
    """What a run would do, changing nothing: discovery, the agents' dry-run audits and fixes, in a
    throwaway detached worktree."""
    with tempfile.TemporaryDirectory(prefix="gitorch-dry-run-") as tmp:
        path = Path(tmp) / "gitorch" / "worktrees" / "dry-run"
        Worktree.create(root, path, Path(tmp) / "gitorch" / "gitdirs" / "dry-run.git", base, branch=None)
        facts = discover(path, options.path, config)
        ui.progress(f"discovery: {facts.module_name} — {facts.files} files, {facts.loc} lines of code")
        context = AgentContext(budget=Budget(options.budget_usd))
        for dim in options.dimensions:
            result = run_audit(
                path, dim, config, plugins, path=options.path, dry_run=True, context=context
            )
            ui.progress(f"audit {dim} with {result.agent}: {len(result.findings)} finding(s)")
            names = fix_names(plugins, options, config, dim)
            for f in result.findings:
                ui.progress(f"  would fix {f.severity} {f.location} with {' → '.join(names)}")
                if names and names[0] in plugins.agents():
                    agent = make_agent(plugins, names[0], config, context)
                    request = FixRequest(
                        root=path, finding=f, config=config, path=options.path, dry_run=True
                    )
                    fix = agent.fix(request)
                    if fix.summary:
                        ui.progress(f"    {names[0]}: {fix.summary}")
        ui.progress(f"tests: {options.test_command}")


def _check_request(root: Path, config: Config, plugins: Plugins, options: FixOptions) -> str:
    """Refuse a request that cannot run, before anything is created; returns the base commit."""
    if not options.dimensions:
        raise UsageError("no dimension to fix (use --dim or --all)")
    for dim in options.dimensions:
        plugins.dimension(dim)
        # no auditor for a dimension (in this tree): say so before anything is created
        choose_agent(plugins, dim, config, root=root, path=options.path)
    options.path = resolve_path(root, options.path)
    if options.agent is not None:
        cls = plugins.agent_class(options.agent)
        unable = [d for d in options.dimensions if not cls.can_fix(d)]
        if unable:
            raise UsageError(f"agent {options.agent!r} cannot fix {', '.join(unable)}")
    if options.replay is not None:
        state, _ = load_session(root, options.replay)
        options.replay = state.id
    base = Git(root).rev(options.base)
    if base is None and options.base == "HEAD":
        raise UsageError("the repository has no commit yet; commit something for gitorch to start from")
    if base is None:
        raise UsageError(f"--base {options.base!r} is not a commit in this repository")
    return base


def _snapshot_commit(root: Path, base: str, session_id: str) -> str | None:
    """``--include-dirty``: the user's uncommitted changes as a commit on ``base`` (their tree untouched)."""
    stash = snapshot_dirty(root)
    if stash is None:
        return None
    git = Git(root)
    tree = git.run("rev-parse", f"{stash}^{{tree}}").strip()
    message = (
        f"gitorch: snapshot of uncommitted work\n\n(git stash create {stash})\n\n"
        + format_trailers({"Gitorch-Session": session_id, "Gitorch-Iteration": "0"})
        + "\n"
    )
    return git.run(
        "commit-tree", tree, "-p", base, "-F", "-", input=message.encode(), env=identity_env(git)
    ).strip()


def _excludes_file(root: Path) -> Path:
    path = gitorch_dir(root) / "exclude"
    text = (
        "# files tools and test runs leave behind; never part of a gitorch attempt\n"
        + "\n".join(ARTIFACT_EXCLUDES)
        + "\n"
    )
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, text.encode())
    return path


def _worktree_in_cache(config: Config, plugins: Plugins, options: FixOptions) -> bool:
    """Whether the run's worktree goes to the user cache directory rather than the git directory.

    NOTE: Claude Code refuses, in acceptEdits mode, any edit under a ``.git`` path ("a sensitive
    file"), so a run that may use such an agent works outside the git directory (``auto``).
    """
    if config.worktree_location != "auto":
        return config.worktree_location == "cache"
    names = [name for dim in options.dimensions for name in fix_names(plugins, options, config, dim)]
    agents = plugins.agents()
    return any(not getattr(agents[name], "edits_under_git_dir", True) for name in names if name in agents)
