"""gitorch's embedded default on real repositories, side by side with the fixers used alone.

For each target (the snapshots in ``../shared/corpus/repos/*.tar.gz``, or the folders and git URLs
given), on fresh copies, each a new git repository with one commit:

- **gitorch**: ``gitorch audit`` (before), ``gitorch fix --yes`` (the embedded default: the local
  agent, default dimensions, default caps), ``gitorch audit`` of the run branch (after); every commit of
  the run branch is checked: its touched Python files must parse, and the modules it touched must import
  as well as they did before it (gitorch's interpreter: modules that need the app's uninstalled
  dependencies fail before and after, and do not count); the user's checkout must be byte-identical;
- **codemodder alone**: ``codemodder .`` (its default codemods, applied blindly);
- **ruff alone**: ``ruff check --fix`` and ``ruff check --fix --unsafe-fixes`` with the rules gitorch's
  backend audit uses (plus import sorting), applied blindly;

and the same audit after each. Findings are matched by fingerprint (rule, file, offending line's
text), so a finding counts as fixed when it is gone, and as new when it appears.

    python benchmarks/realworld.py                       # every snapshot, security + backend
    python benchmarks/realworld.py --only python-insecure-app --dim backend --json out.json
    python benchmarks/realworld.py ~/src/myapp https://example.org/app.git --no-write

Writes the tables into docs/benchmarks.md (between the realworld markers) unless ``--no-write``.
Heavy: codemodder starts semgrep; a full run of the four snapshots takes tens of minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = REPO.parent / "shared" / "corpus" / "repos"
DOC = REPO / "docs" / "benchmarks.md"
START, END = "<!-- realworld:start -->", "<!-- realworld:end -->"
BIN = Path(sys.executable).parent

sys.path[:0] = [str(REPO), str(REPO / "plugins")]

from gitorch_local import project_env, ruff  # noqa: E402
from gitorch_local.project_env import ProjectEnv  # noqa: E402

GITORCH_PYTHON = ProjectEnv(sys.executable, "gitorch")


def sh(cwd: Path, *argv: str, check: bool = True, env: dict | None = None,
       timeout: float | None = None) -> subprocess.CompletedProcess:
    full = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=check, env=full,
                          timeout=timeout)


def git(cwd: Path, *args: str) -> str:
    return sh(cwd, "git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args).stdout


# --- targets ------------------------------------------------------------------------------------------


def unpack(source: str, into: Path) -> Path:
    """A fresh copy of ``source`` (a .tar.gz snapshot, a folder, or a git URL) as a one-commit repository."""
    into.mkdir(parents=True)
    if source.endswith((".tar.gz", ".tgz")):
        with tarfile.open(source) as tar:
            tar.extractall(into, filter="data")
        entries = [p for p in into.iterdir()]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else into
    elif Path(source).is_dir():
        root = into / Path(source).name
        shutil.copytree(source, root, ignore=shutil.ignore_patterns(".git", ".venv", "venv", "node_modules"))
    else:
        root = into / Path(source.rstrip("/")).stem
        sh(into, "git", "clone", "-q", "--depth", "1", source, str(root))
        shutil.rmtree(root / ".git")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "snapshot")
    return root


def fresh(source: str, work: Path, label: str) -> Path:
    return unpack(source, work / label)


def tree_digest(root: Path) -> str:
    """The user's side of the repository hashed: every working-tree file (ignored ones included), the
    index, HEAD, the config, the branches and stashes that are not gitorch's."""
    digest = hashlib.sha256()
    files = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts]
    for path in sorted(files) + [root / ".git" / "index", root / ".git" / "HEAD", root / ".git" / "config"]:
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    refs = git(root, "for-each-ref", "--format=%(refname) %(objectname)")
    digest.update("\n".join(r for r in refs.splitlines() if "/gitorch/" not in r).encode())
    return digest.hexdigest()


def loc_of(root: Path) -> int:
    from gitorch.audit.discovery import discover
    from gitorch.config import Config

    return discover(root, ".", Config()).loc


# --- measuring --------------------------------------------------------------------------------------


@dataclass
class Audit:
    scores: dict[str, float | None]
    findings: dict[str, dict[str, str]]  # fingerprint -> "dimension rule"

    def by_dimension(self) -> Counter:
        return Counter(v.split()[0] for v in self.findings.values())

    def by_rule(self) -> Counter:
        return Counter(self.findings.values())


def audit(root: Path, dims: list[str]) -> Audit:
    argv = [str(BIN / "gitorch"), "audit", "--repo", str(root), "--format", "json"]
    for dim in dims:
        argv += ["--dim", dim]
    done = sh(root, *argv, check=False)
    if done.returncode not in (0, 1):
        raise SystemExit(f"gitorch audit failed on {root}: {done.stderr.strip()[-400:]}")
    data = json.loads(done.stdout)
    results = data if isinstance(data, list) else [data]
    return Audit(
        {r["dimension"]: r["score"] for r in results},
        {f["fingerprint"]: f"{f['dimension']} {f.get('rule_id') or '-'}"
         for r in results for f in r["findings"]},
    )


@dataclass
class Breakage:
    files_changed: int = 0
    no_longer_parse: list[str] = field(default_factory=list)
    no_longer_import: list[str] = field(default_factory=list)
    tests: str = "n/a"


def breakage(root: Path, base: str, tip: str | None, tests_before: int | None) -> Breakage:
    """What a change from ``base`` to ``tip`` (None: the working tree) broke."""
    names = git(root, "diff", "--name-only", base, *([tip] if tip else []))
    changed = [n for n in names.splitlines() if n]
    py = [n for n in changed if n.endswith(".py") and (root / n).is_file()]
    from gitorch_local import verify

    parse = sorted(verify.parse_failures(root, py, base))
    imports = sorted(c.file for c in project_env.broken_modules(root, [f for f in py if f not in parse],
                                                                GITORCH_PYTHON, base=base, timeout=30))
    return Breakage(len(changed), parse, imports, run_tests(root, tests_before))


def tests_collected(root: Path) -> int | None:
    env = project_env.find_project_env(root)
    if not env.found:
        return None
    count, _ = project_env.count_tests(root, env, timeout=300)
    return count or None


def run_tests(root: Path, collected: int | None) -> str:
    if not collected:
        return "no tests that run here"
    env = project_env.find_project_env(root)
    done = sh(root, *env.argv("-m", "pytest", "-q", "-p", "no:cacheprovider"), check=False, timeout=900)
    return "pass" if done.returncode == 0 else f"fail (exit {done.returncode})"


@dataclass
class ToolRun:
    tool: str
    wall_s: float
    fixed: list[str]
    new: list[str]
    after: dict
    broke: Breakage
    scores: dict
    after_rules: dict = field(default_factory=dict)


@dataclass
class GitorchRun:
    wall_s: float
    exit_code: int
    stop: str
    commits: int
    commits_failing_gate: list[str]
    checkout_identical: bool
    fixed: list[str]
    new: list[str]
    after: dict
    scores: dict
    after_rules: dict = field(default_factory=dict)


@dataclass
class Result:
    name: str
    loc: int
    dims: list[str]
    before: dict
    scores_before: dict
    before_rules: dict = field(default_factory=dict)
    gitorch: GitorchRun | None = None
    tools: list[ToolRun] = field(default_factory=list)


def compare(before: Audit, after: Audit) -> tuple[list[str], list[str]]:
    fixed = [before.findings[f] for f in before.findings if f not in after.findings]
    new = [after.findings[f] for f in after.findings if f not in before.findings]
    return sorted(fixed), sorted(new)


def run_gitorch(source: str, work: Path, dims: list[str], before: Audit, extra: list[str]) -> GitorchRun:
    root = fresh(source, work, "gitorch")
    base = git(root, "rev-parse", "HEAD").strip()
    digest = tree_digest(root)
    argv = [str(BIN / "gitorch"), "fix", "--repo", str(root), "--yes", *extra]
    for dim in dims:
        argv += ["--dim", dim]
    start = time.monotonic()
    done = sh(root, *argv, check=False)
    wall = time.monotonic() - start
    identical = tree_digest(root) == digest and git(root, "rev-parse", "HEAD").strip() == base
    branches = git(root, "for-each-ref", "--format=%(refname:short)", "refs/heads/gitorch/").split()
    said = done.stdout.splitlines() + done.stderr.splitlines()
    stop = next((line.removeprefix("stopped: ").split(" — ")[0].strip() for line in said
                 if line.startswith("stopped:")), f"exit {done.returncode}")
    if not branches:
        return GitorchRun(wall, done.returncode, stop, 0, [], identical, [], [], dict(before.by_dimension()),
                          before.scores, dict(before.by_rule()))
    branch = branches[0]
    commits = git(root, "rev-list", "--reverse", f"{base}..{branch}").split()
    failing = []
    check = work / "gitorch-check"
    git(root, "worktree", "add", "-q", "--detach", str(check), base)
    for commit in commits:
        git(check, "checkout", "-q", "--detach", commit)
        broke = breakage(check, f"{commit}^", commit, None)
        if broke.no_longer_parse or broke.no_longer_import:
            failing.append(f"{commit[:10]}: parse {broke.no_longer_parse} import {broke.no_longer_import}")
    git(check, "checkout", "-q", "--detach", branch)
    after = audit(check, dims)
    fixed, new = compare(before, after)
    git(root, "worktree", "remove", "--force", str(check))
    return GitorchRun(wall, done.returncode, stop, len(commits), failing, identical, fixed, new,
                      dict(after.by_dimension()), after.scores, dict(after.by_rule()))


def run_tool(name: str, argv_of, source: str, work: Path, dims: list[str], before: Audit,
             tests: int | None) -> ToolRun:
    root = fresh(source, work, name.replace(" ", "-"))
    start = time.monotonic()
    sh(root, *argv_of(root), check=False, timeout=3600)
    wall = time.monotonic() - start
    broke = breakage(root, "HEAD", None, tests)
    git(root, "add", "-A")
    git(root, "commit", "-qm", name, "--allow-empty")
    after = audit(root, dims)
    fixed, new = compare(before, after)
    return ToolRun(name, wall, fixed, new, dict(after.by_dimension()), broke, after.scores,
                   dict(after.by_rule()))


def ruff_argv(unsafe: bool):
    def argv(root: Path) -> list[str]:
        rules = ["--select", ",".join([*ruff.CURATED_SELECT, "I"]), "--ignore", ",".join(ruff.CURATED_IGNORE)]
        return [str(BIN / "ruff"), "check", "--fix", "--no-cache", "--isolated", "--exit-zero", *rules,
                *(["--unsafe-fixes"] if unsafe else []), "."]
    return argv


def codemodder_argv(root: Path) -> list[str]:
    return [str(BIN / "codemodder"), "."]


def bench(source: str, dims: list[str], work: Path, extra: list[str], tools: bool) -> Result:
    name = Path(source.rstrip("/")).name.removesuffix(".tar.gz").removesuffix(".git")
    base_root = fresh(source, work, "before")
    before = audit(base_root, dims)
    tests = tests_collected(base_root)
    result = Result(name, loc_of(base_root), dims, dict(before.by_dimension()), before.scores,
                    dict(before.by_rule()))
    print(f"[{name}] {result.loc} lines, findings {result.before}, scores {before.scores}", flush=True)
    result.gitorch = run_gitorch(source, work, dims, before, extra)
    print(f"[{name}] gitorch: {result.gitorch.commits} commits, fixed {len(result.gitorch.fixed)}, "
          f"{result.gitorch.wall_s:.0f} s", flush=True)
    if tools:
        if "security" in dims:
            result.tools.append(run_tool("codemodder", codemodder_argv, source, work, dims, before, tests))
        if "backend" in dims:
            for unsafe in (False, True):
                tool = "ruff --fix --unsafe-fixes" if unsafe else "ruff --fix"
                result.tools.append(run_tool(tool, ruff_argv(unsafe), source, work, dims, before, tests))
        for tool in result.tools:
            print(f"[{name}] {tool.tool}: fixed {len(tool.fixed)}, new {len(tool.new)}, "
                  f"broke {len(tool.broke.no_longer_parse)}+{len(tool.broke.no_longer_import)}", flush=True)
    return result


# --- the report -------------------------------------------------------------------------------------


def blind_union(result: Result) -> int:
    """Findings fixed by codemodder and by ruff with unsafe fixes, each alone (counted once)."""
    picked = [t for t in result.tools if t.tool in ("codemodder", "ruff --fix --unsafe-fixes")]
    return sum((Counter(t.fixed) for t in picked), Counter()).total() if picked else 0


def fmt_score(scores: dict, dim: str) -> str:
    value = scores.get(dim)
    return "-" if value is None else f"{value:g}"


def markdown(results: list[Result], command: str) -> str:
    lines = [START, "", f"`{command}` — {time.strftime('%Y-%m-%d')}, "
             f"{os.cpu_count()} cores shared with other work.", ""]
    lines += ["| app | lines | dimension | findings before | after gitorch | fixed by gitorch | fixed by the "
              "blind tools | commits | commits failing the gate | checkout identical | gitorch wall | "
              "score before → after | stop |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        g = r.gitorch
        for dim in r.dims:
            blind = sum(sum(1 for f in t.fixed if f.startswith(dim + " "))
                        for t in r.tools if t.tool in ("codemodder", "ruff --fix --unsafe-fixes"))
            ours = sum(1 for f in g.fixed if f.startswith(dim + " "))
            lines.append(
                f"| {r.name} | {r.loc} | {dim} | {r.before.get(dim, 0)} | {g.after.get(dim, 0)} | {ours} | "
                f"{blind} | {g.commits} | {len(g.commits_failing_gate)} | "
                f"{'yes' if g.checkout_identical else '**no**'} | {g.wall_s:.0f} s | "
                f"{fmt_score(r.scores_before, dim)} → {fmt_score(g.scores, dim)} | {g.stop} |")
    lines += ["", "The blind tools on fresh copies (findings fixed and new are matched by fingerprint; "
              "breakage is counted on the files each changed):", "",
              "| app | tool | wall | files changed | findings fixed | new findings | files that no longer "
              "parse | modules that no longer import | tests | scores after |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        for t in r.tools:
            scores = ", ".join(f"{d} {fmt_score(t.scores, d)}" for d in r.dims)
            lines.append(f"| {r.name} | `{t.tool}` | {t.wall_s:.0f} s | {t.broke.files_changed} | "
                         f"{len(t.fixed)} | {len(t.new)} | {len(t.broke.no_longer_parse)} | "
                         f"{len(t.broke.no_longer_import)} | "
                         f"{t.broke.tests} | {scores} |")
    lines += ["", "Per rule, where anything changed (open findings before → after each):", "",
              "| app | rule | before | gitorch | codemodder | ruff --fix | ruff --fix --unsafe-fixes |",
              "|---|---|---|---|---|---|---|"]
    for r in results:
        runs = {"gitorch": r.gitorch.after_rules, **{t.tool: t.after_rules for t in r.tools}}
        rules = sorted(set(r.before_rules) | {k for v in runs.values() for k in v})
        for rule in rules:
            was = r.before_rules.get(rule, 0)
            now = [runs[name].get(rule, 0) if name in runs else None
                   for name in ("gitorch", "codemodder", "ruff --fix", "ruff --fix --unsafe-fixes")]
            if all(n is None or n == was for n in now):
                continue
            cells = " | ".join("-" if n is None else str(n) for n in now)
            lines.append(f"| {r.name} | `{rule}` | {was} | {cells} |")
    failing = [f"{r.name}: {c}" for r in results for c in r.gitorch.commits_failing_gate]
    if failing:
        lines += ["Commits that fail the gate:", "", *[f"- {f}" for f in failing], ""]
    lines.append(END)
    return "\n".join(lines)


RULES_START, RULES_END = "<!-- corpus-rules:start -->", "<!-- corpus-rules:end -->"


def fixer_of(rule: str) -> str:
    """Which deterministic fixer of the embedded agent targets ``rule`` (``"security B602"``)."""
    from gitorch_local import codemods, ruff_fix

    dim, rule_id = rule.split(" ", 1)
    if rule_id.startswith("codemod:"):
        return f"codemodder `{rule_id.rsplit('/', 1)[-1]}`"
    if dim == "security":
        mods = sorted(codemods.BANDIT_CODEMODS.get(rule_id, ()))
        return ", ".join(f"codemodder `{m}`" for m in mods) or "—"
    code = rule_id.removeprefix("ruff:")
    if code in ruff_fix.GROUPED_RULES:
        return "ruff safe fix, one change per rule"
    done = sh(REPO, str(BIN / "ruff"), "rule", code, "--output-format", "json", check=False)
    try:
        available = json.loads(done.stdout).get("fix_availability", "None")
    except json.JSONDecodeError:
        available = "None"
    if available == "None":
        return "— (ruff has no fix)"
    return f"ruff fix ({'always' if available == 'Always' else 'sometimes'} available; unsafe ones checked)"


def rules_table(results: list[Result]) -> str:
    """rule → fixer → fixed on the corpus → left, summed over the apps (docs/local-agent.md)."""
    before: Counter = Counter()
    fixed: Counter = Counter()
    left: Counter = Counter()
    for r in results:
        before.update(r.before_rules)
        fixed.update(r.gitorch.fixed)
        left.update(r.gitorch.after_rules)
    lines = [RULES_START, "", "| rule | fixer | open before | fixed by gitorch | left for AI agents |",
             "|---|---|---|---|---|"]
    for rule in sorted(set(before) | set(fixed), key=lambda k: (-before[k], k)):
        lines.append(f"| `{rule}` | {fixer_of(rule)} | {before[rule]} | {fixed[rule]} | {left[rule]} |")
    lines += ["", f"Apps: {', '.join(r.name for r in results)}.", RULES_END]
    return "\n".join(lines)


def write_doc(text: str, doc_path: Path = DOC, start: str = START, end: str = END,
              heading: str = "## Real repositories (benchmarks/realworld.py)") -> None:
    doc = doc_path.read_text(encoding="utf-8")
    if start in doc and end in doc:
        doc = doc[: doc.index(start)] + text + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip() + f"\n\n{heading}\n\n" + text + "\n"
    doc_path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help="folders or git URLs (default: the shared snapshots)")
    parser.add_argument("--only", action="append", default=[], help="snapshot name(s) to run")
    parser.add_argument("--dim", action="append", default=[], help="dimensions (default: security, backend)")
    parser.add_argument("--no-tools", action="store_true", help="gitorch only, not the blind tools")
    parser.add_argument("--fix-arg", action="append", default=[], help="extra argument for gitorch fix")
    parser.add_argument("--json", type=Path, help="write the raw results here")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--render", type=Path, help="write the docs from a --json file of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        results = [load_result(item) for item in json.loads(args.render.read_text(encoding="utf-8"))]
        command = "python benchmarks/realworld.py --json FILE` then `--render FILE"
        return report(results, command, write=not args.no_write)
    dims = args.dim or ["security", "backend"]
    targets = list(args.targets)
    if not targets:
        if not CORPUS.is_dir():
            print(f"realworld: no targets given and no corpus at {CORPUS}", file=sys.stderr)
            return 2
        targets = [str(p) for p in sorted(CORPUS.glob("*.tar.gz"))
                   if not args.only or p.name.removesuffix(".tar.gz") in args.only]
    results = []
    with tempfile.TemporaryDirectory(prefix="gitorch-realworld-") as tmp:
        for n, target in enumerate(targets):
            results.append(bench(target, dims, Path(tmp) / str(n), args.fix_arg, not args.no_tools))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    command = "python benchmarks/realworld.py " + " ".join(argv if argv is not None else sys.argv[1:])
    return report(results, command.strip(), write=not args.no_write)


def report(results: list[Result], command: str, *, write: bool) -> int:
    text = markdown(results, command)
    rules = rules_table(results)
    print(text + "\n\n" + rules)
    if write:
        write_doc(text)
        write_doc(rules, REPO / "docs" / "local-agent.md", RULES_START, RULES_END,
                  "## What the offline default fixes, rule by rule")
    return 0


def load_result(item: dict) -> Result:
    """A Result back from ``--json`` output."""
    result = Result(**{k: v for k, v in item.items() if k not in ("gitorch", "tools")})
    result.gitorch = GitorchRun(**item["gitorch"])
    result.tools = [ToolRun(**{**t, "broke": Breakage(**t["broke"])}) for t in item["tools"]]
    return result


if __name__ == "__main__":
    raise SystemExit(main())
