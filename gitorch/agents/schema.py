"""The JSON schema an agent fills in for an audit, derived from :class:`~gitorch.models.Finding`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitorch.agents.output import load_json
from gitorch.errors import AgentError
from gitorch.models import (
    AuditResult,
    Finding,
    Severity,
)

if TYPE_CHECKING:
    pass


# --------------------------------------------------------------------------------------------------
# The schema an agent fills in for an audit, derived from Finding.

SCHEMA_EXCLUDED = frozenset({"dimension", "source", "fingerprint"})


def _strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic property schema in the subset strict structured-output modes accept."""
    if "anyOf" in schema:
        types = [s.get("type") for s in schema["anyOf"] if s.get("type")]
        return {"type": types}
    out = {k: v for k, v in schema.items() if k in ("type", "enum", "items")}
    return out


def findings_schema() -> dict[str, Any]:
    """JSON Schema of an audit answer: ``{"score", "summary", "findings": [Finding fields...]}``.

    Derived from :class:`~gitorch.models.Finding` (minus what gitorch fills in itself), in the
    strict form (every property required, nullable as ``[type, "null"]``, no extra keys) that
    codex's ``--output-schema`` demands and claude's ``--json-schema`` accepts.
    """
    props: dict[str, Any] = {}
    source = Finding.model_json_schema()["properties"]
    for name in Finding.model_fields:
        if name in SCHEMA_EXCLUDED:
            continue
        if name == "severity":
            props[name] = {"type": "string", "enum": [s.value for s in Severity]}
        else:
            props[name] = _strict(source[name])
        description = Finding.model_fields[name].description
        if description:
            props[name]["description"] = description
    finding = {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "score": {"type": ["number", "null"], "description": "your score for this dimension, 0-100"},
            "summary": {"type": "string"},
            "findings": {"type": "array", "items": finding},
        },
        "required": ["score", "summary", "findings"],
        "additionalProperties": False,
    }


def result_from_structured(data: Any, *, dimension: str, agent: str) -> AuditResult:
    """Build an AuditResult from an answer following :func:`findings_schema`; AgentError if it does not."""
    if isinstance(data, str):
        data = load_json(strip_fence(data))
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise AgentError(f"{agent}: the structured audit answer has no findings list")
    findings: list[Finding] = []
    notes: list[str] = []
    for raw in data["findings"]:
        if not isinstance(raw, dict):
            continue
        fields = {k: v for k, v in raw.items() if k in Finding.model_fields and k not in SCHEMA_EXCLUDED}
        try:
            findings.append(Finding(dimension=dimension, source=agent, **fields))
        except (ValueError, TypeError) as exc:
            notes.append(f"skipped a malformed finding: {str(exc).splitlines()[0]}")
    score = data.get("score")
    summary = data.get("summary")
    if isinstance(summary, str) and summary.strip():
        notes.insert(0, summary.strip())
    return AuditResult(
        dimension=dimension,
        agent=agent,
        findings=findings,
        claimed_score=float(score) if isinstance(score, int | float) else None,
        claimed_score_scale=100 if isinstance(score, int | float) else None,
        notes=notes,
    )


def strip_fence(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text


