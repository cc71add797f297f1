"""Measure the Markdown parser on the agent-report corpora (``shared/corpus/agent-reports*`` and a
fresh corpus kept outside the repository).

Usage::

    python benchmarks/parser_corpus.py [--held-out] [--json] [--fresh DIR] [CORPUS_DIR ...]

Without arguments it measures the **development set**: every report of ``agent-reports`` (the
first corpus), the even-numbered reports of ``agent-reports-2`` and, when a fresh corpus is given
(``--fresh DIR`` or ``$GITORCH_FRESH_CORPUS``; ``DIR`` holds ``dev/`` and ``heldout/``, each with
reports and a ``truth.json``), the reports of ``DIR/dev``. ``--held-out`` also measures the
**held-out sets**, each printed on its own: the odd-numbered reports of ``agent-reports-2`` (27, 31,
33, 35, 37, 39) and, with a fresh corpus, ``DIR/heldout``. Held-out reports are never opened
without ``--held-out``. Explicit ``CORPUS_DIR`` arguments measure those directories as one
development set instead.

The shared corpora default to ``$GITORCH_CORPUS`` (the first one; the second is its sibling
``agent-reports-2``) or ``../shared/corpus/`` next to the repository. Four figures per set, as
defined in the corpus READMEs:

* per-severity count F1: for each report and severity, TP = min(truth, predicted),
  FP = max(0, predicted - truth), FN = max(0, truth - predicted), summed over all, then
  F1 = 2TP / (2TP + FP + FN);
* reports whose every per-severity count is exact;
* file:line recall: sum over reports of min(predicted findings with file and line,
  ``findings_with_file_line``) divided by the sum of ``findings_with_file_line``;
* score exact: reports whose score AND scale equal the truth (both null counts as equal).

Where a report has a ``second_reading`` (two independent readings of an ambiguous report), "a
parser that matches either reading is right on that point" (the corpus READMEs): each point (the
counts, the score, the file:line figure) is compared with the reading closer to it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

SEVERITIES = ("P0", "P1", "P2", "P3", "P4")
HELD_OUT_CORPUS = "agent-reports-2"


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
    reading: str = "first"
    warnings: list[str] = field(default_factory=list)

    @property
    def score_ok(self) -> bool:
        return (self.score, self.scale) == (self.truth_score, self.truth_scale)

    @property
    def counts_ok(self) -> bool:
        return self.counts == self.truth_counts


@dataclass
class CorpusScore:
    reports: list[ReportScore] = field(default_factory=list)

    def _sums(self) -> tuple[int, int, int]:
        tp = fp = fn = 0
        for r in self.reports:
            for sev in SEVERITIES:
                t, p = r.truth_counts[sev], r.counts[sev]
                tp += min(t, p)
                fp += max(0, p - t)
                fn += max(0, t - p)
        return tp, fp, fn

    @property
    def tp(self) -> int:
        return self._sums()[0]

    @property
    def fp(self) -> int:
        return self._sums()[1]

    @property
    def fn(self) -> int:
        return self._sums()[2]

    @property
    def count_f1(self) -> float:
        tp, fp, fn = self._sums()
        denominator = 2 * tp + fp + fn
        return 1.0 if denominator == 0 else 2 * tp / denominator

    @property
    def counts_exact(self) -> int:
        return sum(r.counts_ok for r in self.reports)

    @property
    def scores_exact(self) -> int:
        return sum(r.score_ok for r in self.reports)

    @property
    def score_exact(self) -> float:
        return self.scores_exact / len(self.reports) if self.reports else 0.0

    @property
    def file_line_recall(self) -> float:
        truth = sum(r.truth_file_line for r in self.reports)
        found = sum(min(r.file_line, r.truth_file_line) for r in self.reports)
        return 1.0 if truth == 0 else found / truth

    def figures(self) -> dict[str, object]:
        tp, fp, fn = self._sums()
        return {
            "reports": len(self.reports),
            "count_f1": round(self.count_f1, 4),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "counts_exact": self.counts_exact,
            "file_line_recall": round(self.file_line_recall, 4),
            "scores_exact": self.scores_exact,
        }


def shared_corpora() -> Path:
    env = os.environ.get("GITORCH_CORPUS")
    if env:
        return Path(env).parent
    return Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


def default_corpus() -> Path:
    """The first corpus (``agent-reports``)."""
    env = os.environ.get("GITORCH_CORPUS")
    return Path(env) if env else shared_corpora() / "agent-reports"


def is_held_out(corpus: Path, name: str) -> bool:
    """The odd-numbered reports of the second corpus are held out from development."""
    m = re.match(r"(\d+)_", name)
    return corpus.name == HELD_OUT_CORPUS and m is not None and int(m.group(1)) % 2 == 1


def _names(corpus: Path, *, held_out: bool) -> list[str]:
    """Report names of ``corpus`` on one side of the hold-out line, read from the truth's keys only."""
    truth = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
    return sorted(name for name in truth if is_held_out(corpus, name) == held_out)


def _readings(expected: dict) -> list[tuple[str, dict]]:
    out = [("first", expected)]
    if isinstance(expected.get("second_reading"), dict):
        out.append(("second", {**expected, **expected["second_reading"]}))
    return out


def score_report(name: str, text: str, expected: dict) -> ReportScore:
    """Parse one report and compare it with the truth, point by point with the closer reading."""
    from gitorch_markdown.parser import MarkdownParser

    start = time.perf_counter()
    parsed = MarkdownParser().parse(text)
    seconds = time.perf_counter() - start
    counts = {sev: parsed.counts.get(sev, 0) for sev in SEVERITIES}
    file_line = sum(1 for f in parsed.findings if f.file and f.line is not None)
    readings = _readings(expected)

    def truth_counts(reading: dict) -> dict[str, int]:
        return {sev: int(reading["counts"].get(sev, 0)) for sev in SEVERITIES}

    # NOTE: the corpus README: "a parser that matches either reading is right on that point".
    by_counts = min(readings, key=lambda r: sum(abs(counts[s] - truth_counts(r[1])[s]) for s in SEVERITIES))
    by_score = next(
        (r for r in readings if (r[1]["score"], r[1]["score_scale"]) == (parsed.score, parsed.score_scale)),
        readings[0],
    )
    by_file_line = min(
        readings,
        key=lambda r: (
            max(0, int(r[1]["findings_with_file_line"]) - file_line),
            -int(r[1]["findings_with_file_line"]),
        ),
    )
    used = {label for label, _ in (by_counts, by_score, by_file_line)}
    return ReportScore(
        name=name,
        counts=counts,
        truth_counts=truth_counts(by_counts[1]),
        score=parsed.score,
        scale=parsed.score_scale,
        truth_score=by_score[1]["score"],
        truth_scale=by_score[1]["score_scale"],
        file_line=file_line,
        truth_file_line=int(by_file_line[1]["findings_with_file_line"]),
        seconds=seconds,
        reading="first"
        if used == {"first"}
        else "+".join(
            f"{point}: {label}"
            for point, (label, _) in (("counts", by_counts), ("score", by_score), ("file:line", by_file_line))
        ),
        warnings=list(parsed.warnings),
    )


def evaluate(corpus: Path, names: list[str] | None = None) -> CorpusScore:
    """Parse the reports of ``corpus`` (all listed in ``truth.json``, or ``names``) against the truth."""
    truth = json.loads((corpus / "truth.json").read_text(encoding="utf-8"))
    result = CorpusScore()
    for name in names if names is not None else sorted(truth):
        text = (corpus / name).read_text(encoding="utf-8", errors="replace")
        result.reports.append(score_report(f"{corpus.name}/{name}", text, truth[name]))
    return result


def development_set(corpora: Path | None = None) -> CorpusScore:
    """The first corpus and the even-numbered half of the second (what the parser was developed on)."""
    root = corpora or shared_corpora()
    out = CorpusScore()
    for corpus in (root / "agent-reports", root / HELD_OUT_CORPUS):
        if (corpus / "truth.json").is_file():
            out.reports += evaluate(corpus, _names(corpus, held_out=False)).reports
    return out


def held_out_set(corpora: Path | None = None) -> CorpusScore:
    """The odd-numbered half of the second corpus (held out in round 1 of the parser issue)."""
    corpus = (corpora or shared_corpora()) / HELD_OUT_CORPUS
    return evaluate(corpus, _names(corpus, held_out=True))


FRESH_ENV = "GITORCH_FRESH_CORPUS"


def fresh_corpus(argv: list[str] | None = None) -> Path | None:
    """The fresh corpus folder (``--fresh DIR`` or ``$GITORCH_FRESH_CORPUS``), or None."""
    argv = argv or []
    for i, arg in enumerate(argv):
        if arg == "--fresh" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--fresh="):
            return Path(arg.split("=", 1)[1])
    env = os.environ.get(FRESH_ENV)
    return Path(env) if env else None


def fresh_dev_set(root: Path) -> CorpusScore:
    """The fresh corpus's development half (``root/dev``)."""
    return evaluate(root / "dev")


def fresh_held_out_set(root: Path) -> CorpusScore:
    """The fresh corpus's held-out half (``root/heldout``): measured once, when the parser is final."""
    return evaluate(root / "heldout")


def _fmt_counts(counts: dict[str, int]) -> str:
    return " ".join(f"{sev}={counts[sev]}" for sev in SEVERITIES)


def print_set(title: str, score: CorpusScore) -> None:
    print(f"== {title}: {len(score.reports)} reports")
    for r in score.reports:
        mark = "ok  " if r.counts_ok and r.score_ok and r.file_line >= r.truth_file_line else "DIFF"
        reading = "" if r.reading == "first" else f"  [{r.reading.replace('+', ', ')}]"
        print(f"{mark} {r.name}  ({r.seconds * 1000:.1f} ms){reading}")
        if not r.counts_ok:
            print(f"      counts    {_fmt_counts(r.counts)}\n      truth     {_fmt_counts(r.truth_counts)}")
        if not r.score_ok:
            print(f"      score     {r.score}/{r.scale}  truth {r.truth_score}/{r.truth_scale}")
        print(f"      file:line {r.file_line} (truth {r.truth_file_line})")
        for warning in r.warnings:
            print(f"      warning   {warning}")
    print_figures(title, score)


def print_figures(title: str, score: CorpusScore) -> None:
    n = len(score.reports)
    print(f"-- {title}")
    print(f"per-severity count F1 : {score.count_f1:.3f}  (TP={score.tp} FP={score.fp} FN={score.fn})")
    print(f"every count exact     : {score.counts_exact}/{n}")
    print(f"file:line recall      : {score.file_line_recall:.3f}")
    print(f"score and scale exact : {score.scores_exact}/{n}")
    print()


def _positional(argv: list[str]) -> list[Path]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--fresh":
            skip = True
        elif not arg.startswith("--"):
            out.append(Path(arg))
    return out


def main(argv: list[str]) -> int:
    dirs = _positional(argv)
    with_held_out = "--held-out" in argv
    fresh = fresh_corpus(argv)
    if fresh is not None and not (fresh / "dev" / "truth.json").is_file():
        print(f"no fresh corpus at {fresh} (no dev/truth.json)", file=sys.stderr)
        return 2
    sets: dict[str, CorpusScore] = {}
    if dirs:
        missing = [d for d in dirs if not (d / "truth.json").is_file()]
        if missing:
            print(f"no corpus at {missing[0]} (no truth.json)", file=sys.stderr)
            return 2
        shared = CorpusScore()
        for d in dirs:
            shared.reports += evaluate(d, _names(d, held_out=False)).reports
    else:
        if not (default_corpus() / "truth.json").is_file():
            print(f"no corpus at {default_corpus()} (set GITORCH_CORPUS)", file=sys.stderr)
            return 2
        shared = development_set()
    if fresh is None:
        sets["development"] = shared
    else:
        fresh_dev = fresh_dev_set(fresh)
        sets["development: shared corpora"] = shared
        sets["development: fresh dev"] = fresh_dev
        sets["development (all)"] = CorpusScore(shared.reports + fresh_dev.reports)
    if with_held_out:
        roots = {d.parent for d in dirs} or {shared_corpora()}
        held = CorpusScore()
        for root in sorted(roots):
            if (root / HELD_OUT_CORPUS / "truth.json").is_file():
                held.reports += held_out_set(root).reports
        sets["held-out: shared odd half"] = held
        if fresh is not None and (fresh / "heldout" / "truth.json").is_file():
            sets["held-out: fresh"] = fresh_held_out_set(fresh)
    if "--json" in argv:
        out = {
            name: score.figures()
            | {"per_report": [asdict(r) | {"score_ok": r.score_ok} for r in score.reports]}
            for name, score in sets.items()
        }
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    for name, score in sets.items():
        if name == "development (all)":
            print_figures(name, score)
        else:
            print_set(name, score)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
