"""Measure the Markdown parser on the agent-report corpus (``shared/corpus/agent-reports``).

Usage::

    python benchmarks/parser_corpus.py [CORPUS_DIR] [--json]

The corpus directory defaults to ``$GITORCH_CORPUS`` or ``../shared/corpus/agent-reports`` next to
the repository. Three figures, as defined in the corpus README:

* per-severity count F1: for each report and severity, TP = min(truth, predicted),
  FP = max(0, predicted - truth), FN = max(0, truth - predicted), summed over all, then
  F1 = 2TP / (2TP + FP + FN);
* score exact: share of reports whose score AND scale equal the truth (both null counts as equal);
* file:line recall: sum over reports of min(predicted findings with file and line,
  ``findings_with_file_line``) divided by the sum of ``findings_with_file_line``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

SEVERITIES = ("P0", "P1", "P2", "P3", "P4")


@dataclass
class ReportScore:
    name: str
    counts: dict[str, int]
    truth_counts: dict[str, int]
    score: float | None
    scale: int | None
    truth_score: float | None
    truth_scale: int | None
    file_line: int
    truth_file_line: int
    seconds: float

    @property
    def score_ok(self) -> bool:
        return (self.score, self.scale) == (self.truth_score, self.truth_scale)


@dataclass
class CorpusScore:
    reports: list[ReportScore] = field(default_factory=list)
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def count_f1(self) -> float:
        denominator = 2 * self.tp + self.fp + self.fn
        return 1.0 if denominator == 0 else 2 * self.tp / denominator

    @property
    def score_exact(self) -> float:
        return sum(r.score_ok for r in self.reports) / len(self.reports) if self.reports else 0.0

    @property
    def file_line_recall(self) -> float:
        truth = sum(r.truth_file_line for r in self.reports)
        found = sum(min(r.file_line, r.truth_file_line) for r in self.reports)
        return 1.0 if truth == 0 else found / truth


def default_corpus() -> Path:
    env = os.environ.get("GITORCH_CORPUS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "agent-reports"


def evaluate(corpus: Path) -> CorpusScore:
    """Parse every report listed in ``truth.json`` and compare with the truth."""
    from gitorch_markdown.parser import MarkdownParser

    truth = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
    parser = MarkdownParser()
    result = CorpusScore()
    for name, expected in sorted(truth.items()):
        text = (corpus / name).read_text(encoding="utf-8", errors="replace")
        start = time.perf_counter()
        parsed = parser.parse(text)
        seconds = time.perf_counter() - start
        counts = {s.value: n for s, n in parsed.counts.items()}
        truth_counts = {sev: int(expected["counts"].get(sev, 0)) for sev in SEVERITIES}
        for sev in SEVERITIES:
            t, p = truth_counts[sev], counts.get(sev, 0)
            result.tp += min(t, p)
            result.fp += max(0, p - t)
            result.fn += max(0, t - p)
        result.reports.append(
            ReportScore(
                name=name,
                counts={sev: counts.get(sev, 0) for sev in SEVERITIES},
                truth_counts=truth_counts,
                score=parsed.score,
                scale=parsed.score_scale,
                truth_score=expected["score"],
                truth_scale=expected["score_scale"],
                file_line=sum(1 for f in parsed.findings if f.file and f.line is not None),
                truth_file_line=int(expected["findings_with_file_line"]),
                seconds=seconds,
            )
        )
    return result


def _fmt_counts(counts: dict[str, int]) -> str:
    return " ".join(f"{sev}={counts[sev]}" for sev in SEVERITIES)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    corpus = Path(args[0]) if args else default_corpus()
    if not (corpus / "truth.json").is_file():
        print(f"no corpus at {corpus} (set GITORCH_CORPUS)", file=sys.stderr)
        return 2
    score = evaluate(corpus)
    if "--json" in argv:
        print(
            json.dumps(
                {
                    "count_f1": score.count_f1,
                    "score_exact": score.score_exact,
                    "file_line_recall": score.file_line_recall,
                    "reports": [asdict(r) | {"score_ok": r.score_ok} for r in score.reports],
                },
                indent=2,
            )
        )
        return 0
    for r in score.reports:
        mark = "ok " if r.counts == r.truth_counts and r.score_ok else "DIFF"
        print(f"{mark} {r.name}  ({r.seconds * 1000:.1f} ms)")
        if r.counts != r.truth_counts:
            print(f"      counts    {_fmt_counts(r.counts)}\n      truth     {_fmt_counts(r.truth_counts)}")
        if not r.score_ok:
            print(f"      score     {r.score}/{r.scale}  truth {r.truth_score}/{r.truth_scale}")
        print(f"      file:line {r.file_line} (truth {r.truth_file_line})")
    print()
    print(f"per-severity count F1 : {score.count_f1:.3f}  (TP={score.tp} FP={score.fp} FN={score.fn})")
    print(
        f"score exact           : {score.score_exact:.1%}  "
        f"({sum(r.score_ok for r in score.reports)}/{len(score.reports)})"
    )
    print(f"file:line recall      : {score.file_line_recall:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
