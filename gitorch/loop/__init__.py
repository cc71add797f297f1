"""The fix loop: audit, close the gaps one finding at a time behind the gates, re-audit, until a cap.

The core API is :func:`start_run`, :func:`resume_run` and :func:`dry_run`; the CLI passes a
:class:`LoopUI` (progress lines, and how to ask a human). :func:`create_session` makes a run without
running it, and :class:`FixAttempt` runs one attempt on its own (see docs/fix-loop.md, "Architecture of
the loop").
"""

from __future__ import annotations

from gitorch.loop.api import create_session, dry_run, resume_run, start_run
from gitorch.loop.attempt import AttemptContext, FixAttempt, Outcome, Workspace
from gitorch.loop.human import LoopUI
from gitorch.loop.runner import FixLoop

__all__ = [
    "AttemptContext",
    "FixAttempt",
    "FixLoop",
    "LoopUI",
    "Outcome",
    "Workspace",
    "create_session",
    "dry_run",
    "resume_run",
    "start_run",
]
