"""Reading an audit answer: the JSON object the findings schema asked for, or a Markdown report."""

from __future__ import annotations

from typing import Any

from gitorch.agents.schema import result_from_structured, strip_fence
from gitorch.errors import AgentError
from gitorch.models import AuditResult


def read_audit(text: str, structured: Any, *, schema_used: bool, dimension: str, agent: str,
               parser: Any = None) -> AuditResult:
    """The findings of an answer: its structured output when a schema was asked for and honoured (or
    the text is that JSON object), else the text read by the Markdown ``parser``."""
    if schema_used and structured is None and strip_fence(text).startswith("{"):
        structured = text
    if schema_used and structured is not None:
        return result_from_structured(structured, dimension=dimension, agent=agent)
    return read_markdown(text, dimension=dimension, agent=agent, parser=parser)


def read_markdown(text: str, *, dimension: str, agent: str, parser: Any = None) -> AuditResult:
    """A Markdown report read by ``parser`` (default: the parser plugin that declares itself the default).

    The score the report claims is kept as ``claimed_score``, never as the score: gitorch computes
    scores from findings. A report with neither findings nor a score is an :class:`AgentError`.
    """
    if parser is None:
        from gitorch.plugin.manager import get_plugins

        parser = get_plugins().default_parser()
    if not text.strip():
        raise AgentError(f"agent {agent!r} returned an empty report")
    parsed = parser.parse(text, dimension=dimension)
    if not parsed.findings and parsed.score is None and parsed.claimed_score is None:
        # NOTE: "I could not read the files" must not pass for a clean audit scored 100.
        first = text.strip().splitlines()[0][:200]
        raise AgentError(f"agent {agent!r} returned a report with neither findings nor a score: {first}")
    claimed = parsed.claimed_score if parsed.claimed_score is not None else parsed.score
    scale = parsed.claimed_score_scale if parsed.claimed_score is not None else parsed.score_scale
    # The parser names itself as the source; the finding came from this agent.
    own = {None, "", getattr(parser, "name", None)}
    findings = [f.model_copy(update={"source": agent}) if f.source in own else f for f in parsed.findings]
    return parsed.model_copy(update={
        "findings": findings,
        "score": None,
        "score_scale": None,
        "score_source": "none",
        "claimed_score": claimed,
        "claimed_score_scale": scale if claimed is not None else None,
    })
