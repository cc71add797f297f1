"""The Dimension plugin kind: an aspect of a codebase to audit.

A plugin returns Dimension subclasses from the ``gitorch_dimensions`` hook
(:func:`gitorch.hookspecs.gitorch_dimensions`). This module imports nothing from gitorch, so a plugin
that only adds dimensions stays cheap to load.
"""

from __future__ import annotations

from typing import ClassVar


class Dimension:
    """An aspect of a codebase to audit (security, tests, licensing, ...).

    Subclass, set ``name`` (kebab-case, unique among all dimensions: it is what ``--dim`` selects),
    ``title`` and ``description``, and return the class from a ``gitorch_dimensions`` hook::

        from gitorch import Dimension, hookimpl


        class Licensing(Dimension):
            name = "licensing"
            title = "Licensing"
            description = "Licence headers and third-party licence compatibility."


        @hookimpl
        def gitorch_dimensions():
            return [Licensing]

    A dimension is a description, not code: agents decide how to audit it (their ``audits`` set says
    which dimensions they handle). ``template`` names the audit prompt template AI agents render for it
    (``audit_<name>`` when unset; see ``gitorch templates``).
    """

    #: Unique kebab-case id: ``--dim <name>``, ``[routing.<name>]``, the ``dimension`` of its findings.
    name: ClassVar[str]
    #: Human title for reports.
    title: ClassVar[str] = ""
    #: One sentence: what the audit looks at (``gitorch dimensions`` shows it).
    description: ClassVar[str] = ""
    #: The audit prompt template AI agents render (default ``audit_<name>``).
    template: ClassVar[str | None] = None

    @classmethod
    def template_name(cls) -> str:
        return cls.template or f"audit_{cls.name}"
