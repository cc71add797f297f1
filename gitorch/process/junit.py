"""Per-test outcomes from a JUnit XML report (pytest's ``--junitxml``), read with junitparser.

pytest writes one ``<testcase>`` per test it ran: a failure or an error child when it did not pass, a
``<skipped>`` child when it was skipped (``type="pytest.xfail"`` for an expected failure). A test that was
deselected, not collected or never ran has no case at all. :func:`read_junit` gives each case an id
(``classname::name``, e.g. ``tests.test_calc::test_add[1]``) and one outcome.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase

CaseOutcome = Literal["passed", "failed", "error", "skipped", "xfailed"]


class JUnitError(ValueError):
    """The report is missing or is not JUnit XML."""


@dataclass(frozen=True)
class CaseResult:
    """One test case of a report: its id, its outcome, where it is (xunit1 only) and why it did not pass."""

    id: str
    outcome: CaseOutcome
    file: str | None = None
    line: int | None = None  # 1-based
    message: str = ""


def read_junit(path: Path) -> list[CaseResult]:
    """Every test case of the report at ``path``, in order (:class:`JUnitError` when it cannot be read)."""
    try:
        xml = JUnitXml.fromfile(str(path))
    except FileNotFoundError:
        raise JUnitError(f"{path}: no such report") from None
    except Exception as exc:  # junitparser raises lxml's or ElementTree's parse errors
        raise JUnitError(f"{path}: not JUnit XML ({exc})") from None
    suites = [xml] if xml._tag == "testsuite" else list(xml)
    return [_case(case) for suite in suites for case in suite]


def _case(case: TestCase) -> CaseResult:
    outcome: CaseOutcome = "passed"
    message = ""
    for result in case.result:
        text = (result.message or result.text or "").strip()
        if isinstance(result, Failure):
            outcome, message = "failed", text
        elif isinstance(result, Error):
            outcome, message = ("failed" if outcome == "failed" else "error"), message or text
        elif isinstance(result, Skipped) and outcome == "passed":
            outcome = "xfailed" if (result.type or "").endswith("xfail") else "skipped"
            message = text
    file = case._elem.get("file")  # xunit1 carries file and line
    line = case._elem.get("line")
    name = "::".join(part for part in (case.classname, case.name) if part)
    return CaseResult(
        id=name,
        outcome=outcome,
        file=file,
        line=int(line) + 1 if line is not None and line.isdigit() else None,  # xunit1 lines are 0-based
        message=message,
    )


def outcome_counts(cases: list[CaseResult]) -> dict[str, int]:
    """``{"passed": 3, "skipped": 1}`` in a stable order (passed, failed, errors, skipped, xfailed)."""
    counted = Counter(c.outcome for c in cases)
    order = (("passed", "passed"), ("failed", "failed"), ("error", "errors"), ("skipped", "skipped"),
             ("xfailed", "xfailed"))
    return {label: counted[key] for key, label in order if counted[key]}
