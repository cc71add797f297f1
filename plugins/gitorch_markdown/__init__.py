"""gitorch-markdown: reads the Markdown audit reports AI agents write (``gitorch parse REPORT.md``)."""

from __future__ import annotations

from gitorch import hookimpl
from gitorch_markdown.parser import MarkdownParser

# NOTE: the default parser for agents' free-text reports: gitorch cannot drive an AI agent without
# it, so GITORCH_DISABLE_PLUGINS=markdown is refused (see gitorch.plugin.manager).
ESSENTIAL = True


@hookimpl
def gitorch_parsers():
    return [MarkdownParser]
