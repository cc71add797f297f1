"""The fix loop: audit, close the gaps one finding at a time behind the gates, re-audit, until a cap.

The core API is :func:`start_run`, :func:`resume_run` and :func:`dry_run`; the CLI passes a
:class:`LoopUI` (progress lines, and how to ask a human).
"""

from __future__ import annotations

from gitorch.loop.runner import FixLoop, LoopUI, dry_run, resume_run, start_run

__all__ = ["FixLoop", "LoopUI", "dry_run", "resume_run", "start_run"]
