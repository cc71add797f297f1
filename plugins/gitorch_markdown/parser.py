"""The ``markdown`` parser class. Kept tiny so loading the plugin is cheap: the engine
(:mod:`gitorch_markdown.report`, its vocabularies and markdown-it) loads on the first ``parse``.
"""

from __future__ import annotations

from gitorch.models import AuditResult, Parser


class MarkdownParser(Parser):
    """Reads Markdown audit reports: tables, severity headings, ``**Severity:**`` fields, ``[P1]`` bullets.

    ``parse`` returns the open findings, the resolved ones, the score as written (with its scale),
    the letter grade, the totals the report claims and notes; ``agent`` is ``"unknown"``.
    See ``docs/parser.md``.
    """

    name = "markdown"
    default = True  # reads the free text of agents that answer in prose
    description = "Markdown audit reports written by AI agents (tables, severity headings, fields, bullets)"

    def parse(self, text: str, *, dimension: str = "general") -> AuditResult:
        from gitorch_markdown.report import parse_report

        return parse_report(text, dimension=dimension)
