"""gitorch-odoo on real OCA modules: audit time, findings per rule, and what the fixers fix.

Needs the plugin installed (pip install -e plugins/gitorch-odoo) and `bash .ci/install-odoo` (the OCA
checks in .ci/.odoo-tools, the pinned module wheels in .ci/.odoo-addons). Each module is unpacked into
a fresh git repository (addons/<module>, the configuration `gitorch odoo init` writes), then:

- `gitorch audit --dim D --format json` for compliance, security and backend, timed as a user runs it
  (a whole process: Python start-up, plugin loading, pylint-odoo, the OCA checks), median of --rounds;
- with --fix, `gitorch fix --dim compliance --until 100 --yes` once, and the commits it made per rule.

    python benchmarks/odoo_real_modules.py [--rounds 3] [--fix] [--module l10n_es_aeat ...]

Prints Markdown; the figures are recorded in docs/benchmarks.md and docs/odoo.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADDONS = Path(os.environ.get("GITORCH_ODOO_ADDONS") or ROOT / ".ci" / ".odoo-addons")
TOOLS = Path(os.environ.get("GITORCH_ODOO_TOOLS") or ROOT / ".ci" / ".odoo-tools")
DIMENSIONS = ("compliance", "security", "backend")


def unpack(wheel: Path, name: str, repo: Path) -> None:
    prefix = f"odoo/addons/{name}/"
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(prefix) and not member.endswith("/"):
                target = repo / "addons" / name / member[len(prefix) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))


def gitorch(args: list[str], repo: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "gitorch", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return done, time.perf_counter() - started


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fix", action="store_true", help="also run the fix loop once per module")
    parser.add_argument("--module", action="append", help="technical name (default: every cached wheel)")
    args = parser.parse_args()
    wheels = {w.name.split("-")[0].removeprefix("odoo_addon_"): w for w in sorted(ADDONS.glob("*.whl"))}
    names = args.module or sorted(wheels)
    if not wheels or any(n not in wheels for n in names):
        print(f"missing wheels in {ADDONS}: run `bash .ci/install-odoo`", file=sys.stderr)
        return 2
    env = dict(
        os.environ,
        GITORCH_LOAD_PLUGINS="odoo",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), str(TOOLS / "bin"), os.environ["PATH"]]),
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; rounds: {args.rounds}\n")
    print("| module | version | LOC | dimension | audit (median, min–max) | score | findings per rule |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    fixes: list[str] = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="odoo-bench-") as tmp:
            repo = Path(tmp) / "repo"
            repo.mkdir()
            git(repo, "init", "-q", "-b", "main")
            unpack(wheels[name], name, repo)
            subprocess.run(
                [sys.executable, "-m", "gitorch", "odoo", "init"],
                cwd=repo,
                env=env,
                check=True,
                capture_output=True,
            )
            git(repo, "add", "-A")
            git(repo, "commit", "-q", "-m", f"{name} as released")
            version = wheels[name].name.split("-")[1]
            for dim in DIMENSIONS:
                times, data = [], None
                for _ in range(args.rounds):
                    done, seconds = gitorch(
                        ["audit", "--dim", dim, "--agent", "odoo", "--format", "json"], repo, env
                    )
                    if done.returncode != 0:
                        print(done.stderr, file=sys.stderr)
                        return 1
                    times.append(seconds)
                    data = json.loads(done.stdout)
                per_rule = Counter(f["rule_id"] for f in data["findings"])
                rules = ", ".join(f"{r.split(':', 1)[1]} {n}" for r, n in per_rule.most_common()) or "—"
                print(
                    f"| {name} | {version} | {data['loc']} | {dim} | {statistics.median(times):.1f} s "
                    f"({min(times):.1f}–{max(times):.1f}) | {data['score']:g} | {rules} |"
                )
            if args.fix:
                done, seconds = gitorch(["fix", "--dim", "compliance", "--until", "100", "--yes"], repo, env)
                report, _ = gitorch(["report", "--format", "json"], repo, env)
                final = json.loads(report.stdout).get("final_score") if report.returncode == 0 else None
                branch = git(repo, "branch", "--list", "gitorch/*", "--format=%(refname:short)").split()[0]
                subjects = git(repo, "log", "--format=%s", f"main..{branch}").splitlines()
                per_rule = Counter(s.split(" ")[3] for s in subjects if s.startswith("gitorch: fix "))
                fixed = ", ".join(f"{r} {n}" for r, n in per_rule.most_common()) or "—"
                check, _ = gitorch(["odoo", "check"], repo, env)
                fixes.append(
                    f"| {name} | exit {done.returncode} | {final} | {len(subjects)} | {fixed} | "
                    f"{seconds:.0f} s | {check.stdout.strip().splitlines()[-1]} |"
                )
    if fixes:
        print("\n| module | gitorch fix | final score | commits | commits per rule | time | odoo check |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        print("\n".join(fixes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
