"""``gitorch fix --jobs N``: up to N agent calls at once, each in a worktree of its own, landed one by one.

An iteration's findings wait in a queue. A finding starts when a job slot is free and no running
attempt works on its file (one finding per file at a time; a finding without a file runs alone): a
workspace is made for it from the current tip of the run branch (``<run workspace>.job<k>``, with a git
directory of its own, ``gitorch/gitdirs/<session>.job<k>.git``, whose branch ``gitorch/<session>-job<k>``
exists there only) and its agent runs there, in a thread of its own, under a
:class:`~gitorch.process.runner.ProcessScope` that can kill its processes at once, and under the run's
containment (the thread runs in a copy of the loop's context, which holds the launch policy): the same
sandbox, the user's repository watched around its processes, its workspace's git directory compared
and put back around the call (:meth:`~gitorch.vcs.containment.Containment.watching_job_workspace`).
The agent's patch then **lands** in the main thread, one attempt at a time, through the same
:class:`~gitorch.loop.attempt.FixAttempt` pipeline as a serial run — applied on the then-current tip,
gated, tested, committed with its trailers — so the branch stays linear, every commit green, and the
ledger records commits in landing order. A patch that no longer applies on the new tip is tried again
from it once, then given back (left for the next iteration); one whose tests fail is retried from the
new tip with the failure output, as a serial run retries.

The budget is shared: each call's pre-call estimate stays reserved until it is charged
(:class:`~gitorch.services.budget.Budget`), so N calls together cannot pass the cap; a call refused only
because others hold reservations waits for them. Ctrl-C or SIGTERM cancels every running call (its
process group killed) and removes the job workspaces, each one's changes kept as a patch; the pids of the
running groups are written to ``<session>/running/`` so that after a SIGKILL of gitorch itself,
``gitorch resume`` and ``gitorch clean`` (:func:`~gitorch.loop.recovery.recover_jobs`) kill what is left
and remove the job workspaces; ``resume`` then re-audits and plans the queue again.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from gitorch.loop.attempt import FixAttempt, Outcome, Prepared, Workspace
from gitorch.loop.human import Note
from gitorch.loop.recovery import job_git_dir, keep_changes, leftover
from gitorch.loop.session import StopRun
from gitorch.models import Finding
from gitorch.process.runner import ProcessScope, process_scope, start_time
from gitorch.services.budget import BudgetExceeded
from gitorch.vcs.git import gitorch_dir
from gitorch.vcs.workspace import Worktree

if TYPE_CHECKING:
    from gitorch.loop.runner import FixLoop

#: A patch that no longer applies on the new tip is tried again from it this many times, then given back.
REBASES = 1
_ANY_FILE = "\0any"


@dataclass
class Task:
    """A finding in the queue: which agent of its chain is next, and which attempt with it."""

    finding: Finding
    agents: list[str]
    index: int = 0
    number: int = 1
    failure: str | None = None
    rebased: int = 0

    @property
    def agent(self) -> str:
        return self.agents[self.index]

    @property
    def files(self) -> frozenset[str]:
        return frozenset({self.finding.file or _ANY_FILE})


@dataclass
class Slot:
    """A job slot's workspace for one call."""

    number: int
    tree: Worktree
    branch: str
    base: str
    scope: ProcessScope = field(default_factory=ProcessScope)
    started: float = field(default_factory=time.monotonic)


class ParallelAttempts:
    """An iteration's attempts with up to ``jobs`` agent calls at once (see the module's docstring)."""

    def __init__(self, loop: FixLoop, jobs: int) -> None:
        self.loop = loop
        self.jobs = jobs
        self.running_dir = loop.ledger.dir / "running"
        self.committed: list[str] = []
        if loop.containment is not None:  # the job workspaces' .git links, read-only in the sandbox
            loop.containment.protect_links([self._path(n) for n in range(1, jobs + 1)])

    def run(self, items: list[tuple[Finding, list[str]]], phase: str) -> list[str]:
        """Attempt ``items`` (finding, agent chain); returns the fingerprints of the findings committed."""
        queue = deque(Task(finding, list(agents)) for finding, agents in items if agents)
        running: dict[Future, tuple[Task, Slot]] = {}
        waiting_for_budget = False
        stop: BaseException | None = None
        pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="gitorch-job")
        try:
            while queue or running:
                if stop is None and not waiting_for_budget:
                    self._start(queue, running, pool, phase)
                if not running:
                    break
                self._live(running)
                done, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
                finished: list[tuple[Task, Prepared]] = []
                for future in done:
                    task, slot = running.pop(future)
                    waiting_for_budget = False
                    try:
                        prepared = future.result()
                    except BudgetExceeded as exc:
                        if running:  # refused beside other calls' reservations: wait for them
                            queue.appendleft(task)
                            waiting_for_budget = True
                        else:
                            stop = stop or exc
                        continue
                    except (StopRun, Exception) as exc:
                        stop = stop or exc
                        for _, other in running.values():
                            other.scope.cancel.set()
                        continue
                    finally:
                        self._release(slot)
                    self._show(slot, task, f"done in {time.monotonic() - slot.started:.1f}s; landing")
                    finished.append((task, prepared))
                # NOTE: the freed slots start their next calls before the landings (whose tests take a
                # while); a finding waiting to land keeps its file busy.
                while finished:
                    if stop is None and not waiting_for_budget:
                        self._start(queue, running, pool, phase, landing=[t for t, _ in finished])
                    task, prepared = finished.pop(0)
                    self._land(task, prepared, phase, queue)
        except BaseException:
            for _, slot in running.values():
                slot.scope.cancel.set()
            wait(list(running), timeout=30)
            for task, slot in running.values():
                self._release(
                    slot, keep_patch=f"iter{self.loop.state.iteration}-{task.finding.fingerprint[:10]}"
                )
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self._live({})
        if stop is not None:
            raise stop
        if queue:  # left waiting because the money ran out while the last calls ran
            self.loop._stop_if_budget_spent()
        return self.committed

    # starting calls --------------------------------------------------------------------------------

    def _start(
        self,
        queue: deque[Task],
        running: dict,
        pool: ThreadPoolExecutor,
        phase: str,
        landing: list[Task] = (),
    ) -> None:
        """Start the queued findings that fit: a free slot, no running or landing attempt on their file."""
        busy = {file for task, _ in running.values() for file in task.files}
        busy |= {file for task in landing for file in task.files}
        free = sorted(set(range(1, self.jobs + 1)) - {slot.number for _, slot in running.values()})
        for task in list(queue):
            if not free:
                return
            alone = _ANY_FILE in task.files and (running or landing)
            if _ANY_FILE in busy or (task.files & busy) or alone:
                continue
            budget = self.loop.budget
            if budget.spent_usd > 0 and budget.left_usd <= 0:
                return  # spent: the calls running now finish and land, no new one starts
            queue.remove(task)
            slot = self._slot(free.pop(0))
            self.loop.state.attempts += 1
            self.loop.agents.get(task.agent)  # made here: the pool is not shared between threads
            # NOTE: the thread runs in a copy of this context: the run's launch policy (its sandbox) holds
            context = contextvars.copy_context()
            running[pool.submit(context.run, self._call, task, slot, phase)] = (task, slot)
            busy |= task.files
            self._show(slot, task, f"{task.agent} attempt {task.number} started")

    def _path(self, number: int):
        return self.loop.wt.path.parent / f"{self.loop.wt.path.name}.job{number}"

    def _slot(self, number: int) -> Slot:
        """A workspace for job ``number`` from the current tip of the run branch, with a git directory of
        its own (its branch exists there only: nothing of it in the user's repository)."""
        st, root = self.loop.state, self.loop.root
        path, git_dir = self._path(number), job_git_dir(root, st.id, number)
        branch = f"{st.branch}-job{number}"
        leftover(root, path, git_dir, branch)
        tree = Worktree.create(
            root, path, git_dir, st.green_commit, branch=branch, excludes_file=gitorch_dir(root) / "exclude",
            new_branch=False,
        )
        slot = Slot(number, tree, branch, st.green_commit)
        slot.scope.started = lambda pid: self._note_process(pid, slot)
        slot.scope.ended = lambda pid: (self.running_dir / str(pid)).unlink(missing_ok=True)
        return slot

    def _call(self, task: Task, slot: Slot, phase: str) -> Prepared:
        """In a job thread: the agent's call in the slot's worktree, as a patch to land."""
        workspace = Workspace(slot.tree, slot.branch, slot.base)
        attempt = FixAttempt(
            replace(self.loop.attempt_context(), progress=lambda message: None),
            workspace,
            task.finding,
            task.agent,
            phase,
            number=task.number,
            failure=task.failure,
        )
        try:
            with process_scope(slot.scope):
                return attempt.prepare()
        finally:
            self.loop.budget.release()  # a call that was never charged gives its reservation back

    def _note_process(self, pid: int, slot: Slot) -> None:
        self.running_dir.mkdir(exist_ok=True)
        record = {
            "pid": pid,
            "start": start_time(pid),
            "worktree": str(slot.tree.path),
            "branch": slot.branch,
        }
        (self.running_dir / str(pid)).write_text(json.dumps(record))

    def _release(self, slot: Slot, keep_patch: str | None = None) -> None:
        """Remove the slot's workspace and its git directory (its changes first kept as a patch, when
        asked)."""
        if keep_patch is not None:
            keep_changes(slot.tree, slot.base, self.loop.ledger, f"{keep_patch}-job{slot.number}-interrupted")
        slot.tree.remove(self.loop.root)

    # landing ---------------------------------------------------------------------------------------

    def _land(self, task: Task, prepared: Prepared, phase: str, queue: deque[Task]) -> None:
        """Land one finished call on the current tip, and decide what comes next for its finding."""
        loop, st = self.loop, self.loop.state
        attempt = FixAttempt(
            loop.attempt_context(), loop.workspace(), task.finding, task.agent, phase,
            number=task.number, failure=task.failure, prepared=prepared,
        )  # fmt: skip
        outcome: Outcome = attempt.run()
        loop.apply(outcome)
        fingerprint = task.finding.fingerprint
        if outcome.kind == "committed":
            self.committed.append(fingerprint)
            return
        if outcome.kind == "conflict":
            if task.rebased < REBASES:
                queue.appendleft(replace(task, rebased=task.rebased + 1))
            else:
                loop.ui.progress(f"    given back: {outcome.reason}")
            return
        if outcome.kind == "failed_tests" and task.number <= loop.config.tests.retries:
            queue.appendleft(replace(task, number=task.number + 1, failure=outcome.failure))
            return
        st.failed_agents.setdefault(fingerprint, []).append(task.agent)
        if outcome.kind == "declined" and fingerprint not in st.declined:
            st.declined.append(fingerprint)
        loop.save()
        if outcome.kind in ("cannot_fix", "unchanged") and task.index + 1 < len(task.agents):
            queue.appendleft(Task(task.finding, task.agents, index=task.index + 1))

    def _live(self, running: dict) -> None:
        """The attempts running now, one line each, for a live display."""
        if self.loop.ui.running is None:
            return
        now = time.monotonic()
        lines = [
            f"[job {slot.number}] {task.finding.severity} {task.finding.location}: {task.agent} attempt "
            f"{task.number}, {now - slot.started:.0f}s"
            for task, slot in sorted(running.values(), key=lambda pair: pair[1].number)
        ]
        with contextlib.suppress(Exception):  # a display must never stop the run
            self.loop.ui.running(lines)

    def _show(self, slot: Slot, task: Task, what: str) -> None:
        """A progress line, and the job's own line on a live console (gone once its attempt lands)."""
        f = task.finding
        self.loop.ui.progress(
            Note(f"  [job {slot.number}] {f.severity} {f.location}: {what}", slot=f"job-{slot.number}",
                 what=f"[job {slot.number}] {f.severity} {f.location} · {task.agent}", stage=what,
                 done=what.endswith("landing"))
        )
