"""One agent's calls in the run's recorder: each call kept as an :class:`AgentCall` (masked), and in
replay mode the recorded call served instead of running the CLI, its worktree change re-applied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitorch.errors import AgentError
from gitorch.models import Usage
from gitorch.services.recorder import AgentCall
from gitorch.vcs.git import GitError
from gitorch.vcs.patch import apply_patch

if TYPE_CHECKING:
    from gitorch.services.recorder import Recorder

# The side output under which a fix keeps the change the CLI made (see gitorch.vcs.patch).
WORKTREE_PATCH = "worktree_patch"


class CallLog:
    """Keeps one agent's calls with the context's ``recorder`` (None: nothing is kept or replayed)."""

    def __init__(self, recorder: Recorder | None, agent: str, mask: Callable[[str], str],
                 default_model: str | None) -> None:
        self.recorder = recorder
        self.agent = agent
        self.mask = mask
        self.default_model = default_model

    @property
    def replaying(self) -> bool:
        return self.recorder is not None and getattr(self.recorder, "replaying", False)

    def keep(
        self, task: str, prompt: str, cwd: Path, argv: list[str], started_at: datetime, usage: Usage,
        error: str | None, **fields: Any,
    ) -> str | None:
        """Record one call (masked); its id, or None without a recorder."""
        if self.recorder is None:
            return None
        fields["model"] = fields.get("model") or self.default_model
        call = self.recorder.record(AgentCall(
            agent=self.agent, task=task, argv=[self.mask(a) for a in argv], cwd=str(cwd), prompt=prompt,
            usage=usage, error=error, started_at=started_at, **fields,
        ))
        return call.id

    def next(self, prompt: str, cwd: Path) -> AgentCall:
        """The next recorded call (replay mode)."""
        assert self.recorder is not None
        return self.recorder.next_recorded(self.agent, prompt, cwd=cwd)

    @staticmethod
    def reapply(call: AgentCall, cwd: Path) -> None:
        """Re-apply the worktree change a recorded fix made; AgentError when it no longer applies."""
        patch = call.extra.get(WORKTREE_PATCH)
        if not patch:
            return
        try:
            apply_patch(cwd, patch)
        except GitError as exc:
            cause = exc.stderr.strip() or str(exc)
            raise AgentError(f"replay: the recorded change does not apply: {cause[:300]}") from None
