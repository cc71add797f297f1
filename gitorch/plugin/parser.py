"""The Parser plugin kind: how an agent's free-text report becomes findings.

A plugin returns Parser subclasses from the ``gitorch_parsers`` hook
(:func:`gitorch.hookspecs.gitorch_parsers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from gitorch.models import AuditResult


class Parser:
    """Turns an agent's free-text report into an :class:`~gitorch.models.AuditResult`.

    Subclass, set ``name`` (unique among parsers: ``gitorch parse --parser <name>``), implement
    ``parse``, and return the class from a ``gitorch_parsers`` hook::

        import json

        from gitorch import AuditResult, Finding, Parser, hookimpl


        class JsonLines(Parser):
            name = "jsonl"

            def parse(self, text, *, dimension="general"):
                findings = [Finding(dimension=dimension, **json.loads(line)) for line in text.splitlines()]
                return AuditResult(dimension=dimension, agent="unknown", findings=findings)


        @hookimpl
        def gitorch_parsers():
            return [JsonLines]

    ``parse`` reports what the text says: its findings, and the score it wrote (``score_source =
    "reported"``); gitorch computes its own score from the findings. It must not raise on text it
    cannot read: return no findings and say why in ``notes``. A parser unsure of its reading says why
    in ``AuditResult.warnings`` (then ``result.doubtful`` is true, ``gitorch parse --strict`` exits 4,
    and a caller may ask the agent again) instead of guessing.

    ``default = True`` offers the parser as the one gitorch uses for the free text of agents that
    answer in prose (AI agents without a JSON schema) and for ``gitorch parse`` without ``--parser``.
    When several parsers say so, the first in pluggy's call order wins: an installed third-party
    parser pre-empts gitorch's own (see :meth:`gitorch.plugin.manager.Plugins.default_parser`).
    """

    #: Unique id: ``gitorch parse --parser <name>``.
    name: ClassVar[str]
    #: One sentence for listings.
    description: ClassVar[str] = ""
    #: True: offered as the parser for agents' free-text reports (see the class docstring).
    default: ClassVar[bool] = False

    def parse(self, text: str, *, dimension: str = "general") -> AuditResult:
        raise NotImplementedError
