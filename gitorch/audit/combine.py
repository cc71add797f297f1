"""``gitorch merge``: the results of many work units (``gitorch plan``) combined into one report.

Each input is a file gitorch wrote: an audit result (``gitorch audit --format json``: one object, or an
array of them), a SARIF log (``--format sarif``), or a fix run's report (``gitorch report --format
json``), whose branch is listed for review. Per dimension the units' findings are put together and the
score is computed again from them and the summed lines of code with :mod:`gitorch.score` — never an
average of the units' scores, which would weigh a ten-line module like a ten-thousand-line one. The
report's one score is the lowest dimension score, as a fix run's ``final_score``.

NOTE: inputs that cannot have come from one plan are refused, naming the file: anything unreadable or
not written by gitorch, a result without a computed score (a dry run, a parsed report), results scored
with different formulas, the same unit twice, or units whose paths nest (their lines would count twice).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from gitorch.errors import ReportError
from gitorch.models import AuditResult, Finding, Usage
from gitorch.score import compute_score

SUFFIXES = (".json", ".sarif")


class UnitSummary(BaseModel):
    """One unit's result as it came in: where from, which dimension and path, its own score."""

    source: str
    dimension: str
    path: str
    agent: str
    score: float | None
    loc: int | None
    findings: int


class BranchSummary(BaseModel):
    """A fix run to review: its branch, what it fixed, its scores."""

    source: str
    session: str
    branch: str
    path: str
    module: str | None
    status: str
    commits: int
    initial_score: float | None
    final_score: float | None


class MergedReport(BaseModel):
    """The combined report: one result per dimension, the one score, the units and the branches."""

    kind: str = "gitorch-merge"
    schema_version: int = 1
    score: float | None = Field(description="the lowest dimension score")
    score_formula: int | None
    scores: dict[str, float | None]
    results: list[AuditResult]
    units: list[UnitSummary]
    branches: list[BranchSummary]


def merge_files(paths: Iterable[Path], plan: Path | None = None) -> MergedReport:
    """Read every result under ``paths`` (files, or directories searched for ``*.json``/``*.sarif``) and
    combine them; :class:`~gitorch.errors.ReportError` names the first input that cannot be used.

    With ``plan`` (the matrix ``gitorch plan --json`` wrote), every unit of the plan must have its result
    and no result may lie outside it: a job that failed or an artifact that went missing is an error,
    never a score over part of the repository."""
    results: list[tuple[str, AuditResult]] = []
    branches: list[BranchSummary] = []
    files = list(_expand(paths))
    if not files:
        raise ReportError("no result files to merge (give JSON or SARIF files, or directories holding them)")
    for file in files:
        kind, items = read_result_file(file)
        if kind == "run":
            branches += items
        else:
            results += [(str(file), item) for item in items]
    if plan is not None:
        check_plan(plan, results)
    return combine(results, branches)


def check_plan(plan: Path, results: list[tuple[str, AuditResult]]) -> None:
    """Every unit of ``plan`` has exactly its result among ``results`` (see :func:`merge_files`)."""
    units = _read_json(plan)
    if not isinstance(units, dict) or not isinstance(units.get("include"), list):
        raise ReportError(f'{plan}: not a plan (gitorch plan --json writes {{"include": [...]}})')
    try:
        wanted = {(u["dimension"], u["path"]) for u in units["include"]}
    except (KeyError, TypeError):
        raise ReportError(f"{plan}: not a plan: a unit without its dimension and path") from None
    have = {(r.dimension, r.path): source for source, r in results}
    missing = sorted(wanted - have.keys())
    if missing:
        dimension, path = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise ReportError(
            f"{plan}: no result for the unit {dimension}:{path}{more}: its job failed or is missing"
        )
    extra = sorted(have.keys() - wanted)
    if extra:
        dimension, path = extra[0]
        raise ReportError(f"{have[extra[0]]}: {dimension}:{path} is not a unit of {plan}")


def combine(
    results: list[tuple[str, AuditResult]], branches: list[BranchSummary] | None = None
) -> MergedReport:
    """``[(source, unit result)]`` combined per dimension (see the module's docstring)."""
    formulas = {r.score_formula for _, r in results}
    if len(formulas) > 1:
        by = {r.score_formula: source for source, r in results}
        shown = ", ".join(f"{by[f]} formula {f if f is not None else 'unknown'}" for f in by)
        raise ReportError(f"results scored with different formulas cannot be merged: {shown}")
    formula = next(iter(formulas), None)
    by_dimension: dict[str, list[tuple[str, AuditResult]]] = {}
    for source, result in results:
        by_dimension.setdefault(result.dimension, []).append((source, result))
    merged = [_merge_dimension(units, formula) for _, units in sorted(by_dimension.items())]
    scores = {r.dimension: r.score for r in merged}
    units = [
        UnitSummary(
            source=source, dimension=r.dimension, path=r.path, agent=r.auditors, score=r.score, loc=r.loc,
            findings=len(r.findings),
        )
        for source, r in sorted(results, key=lambda pair: (pair[1].dimension, pair[1].path))
    ]  # fmt: skip
    values = [s for s in scores.values() if s is not None]
    return MergedReport(
        score=min(values) if values else None,
        score_formula=formula,
        scores=scores,
        results=merged,
        units=units,
        branches=sorted(branches or [], key=lambda b: (b.path, b.branch)),
    )


def _merge_dimension(units: list[tuple[str, AuditResult]], formula: int | None) -> AuditResult:
    units = sorted(units, key=lambda pair: pair[1].path)
    dimension = units[0][1].dimension
    seen: dict[str, str] = {}
    for source, result in units:
        for path, other in seen.items():
            if path == result.path:
                raise ReportError(f"{source}: {dimension} of {path!r} is also in {other}: a unit given twice")
            if _nested(path, result.path) or _nested(result.path, path):
                raise ReportError(
                    f"{source}: {dimension} of {result.path!r} overlaps {path!r} ({other}): their lines "
                    "would count twice; merge the units of one plan"
                )
        seen[result.path] = source
    findings: list[Finding] = []
    resolved: list[Finding] = []
    notes: list[str] = []
    warnings: list[str] = []
    agents: list[str] = []
    usage = Usage()
    loc = files = 0
    duration = 0.0
    for _, result in units:
        findings += result.findings
        resolved += result.resolved
        notes += [f"{result.path}: {note}" for note in result.notes]
        warnings += [f"{result.path}: {warning}" for warning in result.warnings]
        agents += [result.agent, *result.contributors]
        usage = usage + result.usage
        loc += result.loc or 0
        files += result.files or 0
        duration += result.duration_s
    agents = list(dict.fromkeys(agents))
    paths = [r.path for _, r in units]
    common = posixpath.commonpath(paths) if "." not in paths else "."
    notes.append(f"merged from {len(units)} unit(s): {', '.join(paths)}")
    score = compute_score(findings, loc, formula=formula) if formula is not None else None
    return AuditResult(
        dimension=dimension,
        agent=agents[0],
        contributors=agents[1:],
        path=common or ".",
        score=score,
        score_scale=100,
        score_source="computed",
        score_formula=formula,
        findings=findings,
        resolved=resolved,
        loc=loc,
        files=files,
        duration_s=round(duration, 3),
        usage=usage,
        notes=notes,
        warnings=warnings,
    )


def read_result_file(path: Path) -> tuple[str, list]:
    """``("audit", [AuditResult])`` or ``("run", [BranchSummary])`` for one file gitorch wrote."""
    data = _read_json(path)
    if isinstance(data, dict) and "runs" in data and str(data.get("version")) == "2.1.0":
        return "audit", _from_sarif(path, data)
    if isinstance(data, dict) and data.get("kind") == "gitorch-merge":
        raise ReportError(f"{path}: already a merged report; merge the units' own results")
    if isinstance(data, dict) and {"session", "branch", "final_scores"} <= data.keys():
        return "run", [_branch(path, data)]
    items = data if isinstance(data, list) else [data]
    if not items or not all(
        isinstance(item, dict) and "dimension" in item and "agent" in item for item in items
    ):
        raise ReportError(f"{path}: not a gitorch audit result, SARIF log or run report")
    try:
        results = [AuditResult.model_validate(item) for item in items]
    except ValidationError as exc:
        raise ReportError(f"{path}: not a valid gitorch audit result: {_first_error(exc)}") from None
    return "audit", [_scored(path, r) for r in results]


def _read_json(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{path}: not JSON ({exc.msg} at line {exc.lineno}): not a gitorch report"
        ) from None


def _scored(path: Path, result: AuditResult) -> AuditResult:
    if result.score_source != "computed" or result.score is None:
        raise ReportError(
            f"{path}: the {result.dimension} result has no score gitorch computed ({result.score_source}): "
            "a dry run or a parsed report cannot be merged"
        )
    if result.loc is None:
        raise ReportError(f"{path}: the {result.dimension} result does not say how many lines it audited")
    return result


def _from_sarif(path: Path, data: dict) -> list[AuditResult]:
    results = []
    for index, run in enumerate(data.get("runs") or []):
        where = f"{path}: run {index + 1}"
        driver = ((run.get("tool") or {}).get("driver") or {}) if isinstance(run, dict) else {}
        if driver.get("name") != "gitorch":
            raise ReportError(f"{where}: written by {driver.get('name') or 'an unknown tool'}, not gitorch")
        props = run.get("properties") or {}
        if props.get("loc") is None or props.get("scoreSource") is None:
            raise ReportError(f"{where}: a SARIF log of an older gitorch (no line count): audit again")
        try:
            findings = [_finding_from_sarif(item, props["dimension"]) for item in run.get("results") or []]
            result = AuditResult(
                dimension=props["dimension"],
                agent=props.get("agent") or "unknown",
                contributors=(driver.get("properties") or {}).get("contributors") or [],
                path=props.get("path") or ".",
                score=props.get("score"),
                score_scale=props.get("scoreScale"),
                score_source=props["scoreSource"],
                score_formula=props.get("scoreFormula"),
                findings=findings,
                loc=props["loc"],
                files=props.get("files"),
            )
        except (KeyError, TypeError, IndexError, ValidationError) as exc:
            detail = _first_error(exc) if isinstance(exc, ValidationError) else f"missing {exc}"
            raise ReportError(f"{where}: not a SARIF log gitorch wrote: {detail}") from None
        results.append(_scored(path, result))
    if not results:
        raise ReportError(f"{path}: a SARIF log without runs")
    return results


def _finding_from_sarif(item: dict, dimension: str) -> Finding:
    props = item.get("properties") or {}
    text = (item.get("message") or {}).get("text") or ""
    recommendation = props.get("recommendation")
    if recommendation and text.endswith(f"\nRecommendation: {recommendation}"):
        text = text[: -len(f"\nRecommendation: {recommendation}")]
    physical = (item.get("locations") or [{}])[0].get("physicalLocation") or {}
    region = physical.get("region") or {}
    return Finding(
        dimension=props.get("dimension") or dimension,
        severity=props["severity"],
        description=text,
        rule_id=props.get("rule", item.get("ruleId")),
        file=(physical.get("artifactLocation") or {}).get("uri"),
        line=region.get("startLine"),
        end_line=region.get("endLine"),
        recommendation=recommendation,
        source=props.get("source"),
        fingerprint=(item.get("partialFingerprints") or {})["gitorchFingerprint/v1"],
    )


def _branch(path: Path, data: dict) -> BranchSummary:
    try:
        return BranchSummary(
            source=str(path),
            session=data["session"],
            branch=data["branch"],
            path=data.get("path") or ".",
            module=data.get("module"),
            status=data.get("status") or "",
            commits=data.get("commits") or 0,
            initial_score=data.get("initial_score"),
            final_score=data.get("final_score"),
        )
    except ValidationError as exc:
        raise ReportError(f"{path}: not a valid gitorch run report: {_first_error(exc)}") from None


def _expand(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        else:
            yield path


def _nested(inner: str, outer: str) -> bool:
    return inner != outer and (outer == "." or inner.startswith(outer + "/"))


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    return f"{'.'.join(str(p) for p in err['loc']) or 'value'}: {err['msg']}"
