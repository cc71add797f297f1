"""Template variables and the built-in fallback prompts of CLI agents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitorch.models import (
    AuditRequest,
    FixRequest,
)

if TYPE_CHECKING:
    from gitorch.config import Config


# --------------------------------------------------------------------------------------------------
# Template variables and the built-in fallback prompts.


def constraints_of(config: Config | None) -> list[str]:
    """Rules of the built-in fallback prompts (the templates state them in ``_constraints``)."""
    rules = [
        "Work only inside this repository; never open or modify secret files such as .env.",
        "Do not commit, branch or push: gitorch reviews, tests and commits the change.",
    ]
    if config is not None and config.command_prefix:
        rules.append(f"Run project commands through this prefix: {config.command_prefix}")
    return rules


def _project(config: Config | None) -> dict[str, Any]:
    """Template variables from the configuration."""
    if config is None:
        return {"command_prefix": "", "test_command": ""}
    return {"command_prefix": config.command_prefix, "test_command": config.tests.command}


def audit_variables(request: AuditRequest, schema: dict[str, Any] | None) -> dict[str, Any]:
    dimension = request.dimension
    return {
        "dimension": dimension.name,
        "dimension_title": dimension.title or dimension.name,
        "dimension_description": dimension.description,
        "module_path": request.path,
        "path": request.path,
        "root": str(request.root),
        **_project(request.config),
        "output_format": "json" if schema is not None else "markdown",
        "json_schema": schema,
        "findings": [],
    }


def fix_variables(request: FixRequest, excerpt: str) -> dict[str, Any]:
    finding = request.finding
    return {
        "finding": finding,
        "dimension": finding.dimension,
        "module_path": request.path,
        "path": request.path,
        "file_excerpt": excerpt,
        "excerpt": excerpt,
        **_project(request.config),
        "attempt": request.attempt,
        "failure": request.failure or "",
        "test_output": request.failure or "",
    }


def minimal_audit_prompt(dimension: Any, path: str, structured: bool) -> str:
    answer = (
        "Answer with JSON following the given schema: a score out of 100, a summary and the findings."
        if structured
        else "Write a Markdown report: a line `**Score:** N/100`, then one `## P<n>` heading per severity "
        "and one bullet per finding, `- [P<n>] description (path/to/file.py:LINE)`, followed by an indented "
        "`- Recommendation: ...` bullet."
    )
    return (
        f"Audit the {dimension.title or dimension.name} of the code under `{path}` in this repository.\n"
        f"{dimension.description}\n\nDo not modify any file, and never open, print or copy secret files such "
        "as .env. Rate each finding P0 (critical) to P4 (info).\n"
        f"{answer}\n"
    )


def minimal_fix_prompt(request: FixRequest, excerpt: str) -> str:
    finding = request.finding
    parts = [
        f"Fix this {finding.severity.value} {finding.dimension} finding by editing the files in this "
        "repository.",
        f"Location: {finding.location}",
        f"Problem: {finding.description}",
    ]
    if finding.recommendation:
        parts.append(f"Recommendation: {finding.recommendation}")
    if excerpt:
        parts.append(f"Relevant lines:\n```\n{excerpt}\n```")
    parts.extend(f"- {rule}" for rule in constraints_of(request.config))
    if request.failure:
        parts.append(f"The previous attempt failed the tests:\n```\n{request.failure[-4000:]}\n```")
    parts.append("Make the smallest change that fixes it, then summarise what you changed in one paragraph.")
    return "\n".join(parts)
