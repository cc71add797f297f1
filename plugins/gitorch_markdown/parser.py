"""The ``markdown`` parser class. Kept tiny so loading the plugin is cheap: the engine
(:mod:`gitorch_markdown.report`, its vocabularies and markdown-it) loads on the first ``parse``.
"""

from __future__ import annotations

from gitorch.models import AuditResult, Parser


class MarkdownParser(Parser):
    """Reads Markdown audit reports: tables, severity headings, ``**Severity:**`` fields, ``[P1]`` bullets.

    ``parse`` returns the open findings, the resolved ones, the score as written (with its scale),
    the letter grade, the totals the report claims and notes; ``agent`` is ``"unknown"``.
    ``warnings`` (and ``doubtful``) say why the parse may be wrong: no findings and no clean
    verdict, stated totals that disagree with the items, a score it cannot place, a report over
    ``max_bytes``. See ``docs/parser.md``.
    """

    name = "markdown"
    default = True  # reads the free text of agents that answer in prose
    description = "Markdown audit reports written by AI agents (tables, severity headings, fields, bullets)"
    #: Reports larger than this (UTF-8 bytes) are not parsed: the result is empty and doubtful.
    max_bytes: int | None = 2 * 1024 * 1024

    def parse(self, text: str, *, dimension: str = "general") -> AuditResult:
        if self.max_bytes is not None and len(text) > self.max_bytes // 4:
            size = len(text.encode("utf-8", errors="replace"))
            if size > self.max_bytes:
                return AuditResult(
                    dimension=dimension,
                    agent="unknown",
                    warnings=[f"report not parsed: {size:,} bytes, over the {self.max_bytes:,}-byte limit"],
                )
        from gitorch_markdown.report import parse_report

        return parse_report(text, dimension=dimension)
