"""A test plugin that implements EVERY hook, each naming only some of its arguments.

hookspecs.py promises that implementations take only the arguments they name; this plugin holds gitorch
to it. tests/core/test_partial_plugin.py installs it (a real ``.dist-info`` with an entry point in the
``gitorch`` group) and runs ``gitorch audit``, ``gitorch parse`` and its own command with it.
"""

from __future__ import annotations

from pathlib import Path

import typer

from gitorch import Agent, AuditResult, Dimension, Finding, Parser, hookimpl


class Spelling(Dimension):
    name = "spelling"
    title = "Spelling"
    description = "Words spelt wrong in the code."


class Speller(Agent):
    name = "speller"
    description = "Flags 'teh' and 'recieve' in Python files."
    audits = frozenset({"spelling"})

    def audit(self, request):
        findings = []
        for path in sorted((request.root / request.path).rglob("*.py")):
            rel = path.relative_to(request.root).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                for word in ("teh", "recieve"):
                    if word in line:
                        findings.append(
                            Finding(dimension="spelling", severity="P3", rule_id=word, file=rel, line=number,
                                    description=f"misspelt: {word}", snippet=line)
                        )  # fmt: skip
        return AuditResult(dimension="spelling", agent=self.name, findings=findings)


class WordList(Parser):
    name = "wordlist"

    def parse(self, text, *, dimension="general"):
        findings = [Finding(dimension=dimension, severity="P4", description=w) for w in text.split()]
        return AuditResult(dimension=dimension, agent="unknown", findings=findings)


@hookimpl
def gitorch_dimensions():
    return [Spelling]


@hookimpl
def gitorch_agents():
    return [Speller]


@hookimpl
def gitorch_parsers():
    return [WordList]


@hookimpl
def gitorch_add_commands(app):
    @app.command("partial-hello")
    def hello(name: str = "world"):
        """Say hello (a command added by the gitorch-partial test plugin)."""
        typer.echo(f"hello {name}")


@hookimpl
def gitorch_process_findings(findings):  # names neither ``result`` nor ``config``
    return [f for f in findings if f.rule_id != "recieve"]


@hookimpl
def gitorch_template_dirs():  # names no argument: the same directory for every tree
    return [Path(__file__).with_name("templates")]


@hookimpl
def gitorch_gate_defaults():
    return {"confirm.core_files": ["**/dictionary.txt"]}


@hookimpl
def gitorch_modules(root):  # names no ``config``
    return sorted(p.name for p in root.iterdir() if (p / "dictionary.txt").is_file())
