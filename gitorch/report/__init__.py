"""The report of a fix run, rebuilt from its ledger (Markdown or JSON)."""

from __future__ import annotations

from gitorch.report.build import Report, build_report, render

__all__ = ["Report", "build_report", "render"]
