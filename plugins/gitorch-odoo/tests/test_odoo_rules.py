"""The rule table covers every message the installed analyzers can emit, and the docs show that table."""

from __future__ import annotations

import re
import subprocess

from gitorch import Severity

from gitorch_odoo.rules import OCA, OWN, PYLINT, RULES, all_rules, rule_for
from odoohelpers import REPO_ROOT


def test_every_pylint_odoo_message_has_a_rule():
    from pylint.lint import PyLinter

    linter = PyLinter()
    linter.load_default_plugins()  # pylint-odoo augments pylint's own checkers
    linter.load_plugin_modules(["pylint_odoo", "gitorch_odoo.pylint_checkers"])
    symbols = {
        symbol: checker.name
        for checker in linter.get_checkers()
        if checker.name in ("odoolint", "gitorch-odoo")
        for _, (_, symbol, *_) in checker.msgs.items()
    }
    assert len(symbols) > 60
    missing = sorted(
        s for s, name in symbols.items() if s not in RULES[OWN if name == "gitorch-odoo" else PYLINT]
    )
    assert missing == [], f"pylint-odoo messages without a rule in gitorch_odoo/rules.py: {missing}"


def test_every_oca_check_has_a_rule(oca_bin):
    listed = set()
    for script in ("oca-checks-odoo-module", "oca-checks-po"):
        out = subprocess.run(
            [str(oca_bin / script), "--list-msgs"], capture_output=True, text=True, check=True
        )
        listed |= set(re.findall(r"^\* Check ([a-z0-9-]+)", out.stdout, re.MULTILINE))
    assert len(listed) > 30
    missing = sorted(listed - set(RULES[OCA]))
    assert missing == [], f"OCA checks without a rule in gitorch_odoo/rules.py: {missing}"


def test_unknown_messages_fall_back_on_their_kind():
    assert rule_for(PYLINT, "brand-new-check", "error").severity == Severity.P2
    assert rule_for(PYLINT, "brand-new-check", "warning").severity == Severity.P3
    assert rule_for(PYLINT, "brand-new-check", "convention").severity == Severity.P4
    assert rule_for(OCA, "brand-new-xml-check").severity == Severity.P3
    assert rule_for(OCA, "brand-new-xml-check").dimension == "compliance"
    assert rule_for(PYLINT, "sql-injection").severity == Severity.P1


def test_fixers_are_named_for_known_rules_only():
    fixers = {r.rule_id: r.fixer for r in all_rules() if r.fixer}
    assert fixers["pylint-odoo:attribute-string-redundant"] == "fixit:field-string-redundant"
    assert fixers["oca:xml-header-wrong"] == "oca:xml-header-wrong"
    assert all(r.dimension == "compliance" for r in all_rules() if r.fixer)


def test_docs_table_is_the_rule_table():
    text = (REPO_ROOT / "docs" / "odoo.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z-]+:[a-z0-9-]+)` \| (\w+) \| (P\d) \|", text, re.MULTILINE)
    documented = {rule_id: (dim, sev) for rule_id, dim, sev in rows}
    expected = {r.rule_id: (r.dimension, r.severity.value) for r in all_rules()}
    assert documented == expected
