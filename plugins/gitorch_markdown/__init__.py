"""gitorch-markdown: reads the Markdown audit reports AI agents write (``gitorch parse REPORT.md``)."""

from __future__ import annotations

from gitorch import hookimpl
from gitorch_markdown.parser import MarkdownParser


@hookimpl
def gitorch_parsers():
    return [MarkdownParser]
