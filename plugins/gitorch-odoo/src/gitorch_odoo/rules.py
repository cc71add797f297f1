"""Every message of the Odoo analyzers mapped to a gitorch dimension and a severity (docs/odoo.md).

How severities were chosen:

- **P0** the module cannot be installed or loaded (a manifest, XML or CSV file that does not parse, a
  field Odoo 19 removed written by a data file);
- **P1** wrong behaviour or a security hole in normal use (SQL built by string formatting, a missing
  ``super()`` or ``return``, ``cr.commit()``, a data file that does not exist, duplicate XML ids, a
  translation whose placeholders do not match);
- **P2** an API deprecated or removed in the module's Odoo series, a licence problem, robustness;
- **P3** an OCA guideline that OCA's CI enforces (XML header and attribute order, redundant ``string``);
- **P4** information (conventions that depend on who publishes the module).

A message no table names (a newer tool version) falls back on its kind: see :func:`rule_for`.
"""

from __future__ import annotations

from dataclasses import dataclass

from gitorch import Severity

PYLINT = "pylint-odoo"  # pylint-odoo's messages (the pylint "odoolint" checker)
OCA = "oca"  # oca-odoo-pre-commit-hooks: oca-checks-odoo-module and oca-checks-po
OWN = "gitorch-odoo"  # this plugin's own pylint checker (gitorch_odoo.pylint_checkers)
FIXIT = "fixit"  # oca-checks-odoo-module-fixit's rules

P0, P1, P2, P3, P4 = Severity.P0, Severity.P1, Severity.P2, Severity.P3, Severity.P4


@dataclass(frozen=True)
class Rule:
    """How one analyzer message becomes a finding; ``fixer`` is ``"fixit:<rule>"`` or ``"oca:<check>"``."""

    tool: str
    code: str
    dimension: str
    severity: Severity
    why: str
    fixer: str | None = None

    @property
    def rule_id(self) -> str:
        return f"{self.tool}:{self.code}"


def _table(tool: str, rows: list[tuple]) -> dict[str, Rule]:
    return {row[0]: Rule(tool, *row) for row in rows}


_PYLINT_ROWS: list[tuple] = [
    ("syntax-error", "backend", P0, "a Python file that does not parse: the module cannot load"),
    # security
    ("sql-injection", "security", P1, "SQL built by string formatting reaches cr.execute(): pass parameters"),
    ("translation-injection", "security", P2, "str.format() on a translated string: use named placeholders"),
    ("manifest-external-assets", "security", P2, "assets loaded from a third-party CDN: ship them"),
    # backend
    ("invalid-commit", "backend", P1, "cr.commit() breaks Odoo's transaction: partial writes on errors"),
    ("method-required-super", "backend", P1, "an override without super(): other modules' logic is skipped"),
    ("missing-return", "backend", P1, "super() is called but its result is not returned"),
    ("super-method-mismatch", "backend", P1, "super() calls another method than the one overridden"),
    ("no-write-in-compute", "backend", P2, "write() in a compute method: assign the field instead"),
    ("no-raise-unlink", "backend", P2, "an exception raised in unlink(): use @api.ondelete"),
    ("prohibited-method-override", "backend", P2, "a method the project forbids overriding"),
    ("test-folder-imported", "backend", P2, "the tests folder is imported by the module"),
    ("external-request-timeout", "backend", P2, "an outgoing request without timeout can block a worker"),
    ("inheritable-method-string", "backend", P3, "pass the method name as a string to keep it inheritable"),
    ("inheritable-method-lambda", "backend", P3, "wrap the method in a lambda to keep it inheritable"),
    ("except-pass", "backend", P3, "an exception silently ignored"),
    ("print-used", "backend", P3, "print() instead of the logger"),
    ("no-search-all", "backend", P3, "search([]) without a limit loads every record"),
    ("bad-builtin-groupby", "backend", P3, "itertools.groupby instead of odoo.tools.groupby"),
    ("context-overridden", "backend", P3, "the context replaced by a dict instead of extended"),
    ("consider-merging-classes-inherited", "backend", P4, "several classes extend the same model"),
    ("use-vim-comment", "backend", P4, "a vim modeline comment"),
    # compliance: the module's Odoo series, OCA guidelines, translations, the manifest
    ("resource-not-exist", "compliance", P1, "the manifest names a file that does not exist: install fails"),
    ("manifest-behind-migrations", "compliance", P1, "migration scripts newer than the manifest never run"),
    ("translation-unsupported-format", "compliance", P1, "a translated message fails when formatted"),
    ("translation-format-truncated", "compliance", P1, "a translated message fails when formatted"),
    ("translation-too-many-args", "compliance", P1, "a translated message fails when formatted"),
    ("translation-too-few-args", "compliance", P1, "a translated message fails when formatted"),
    ("deprecated-name-get", "compliance", P2, "name_get() is no longer called since 17.0"),
    (
        "deprecated-inselect-operator",
        "compliance",
        P2,
        "the inselect domain operator is deprecated since 18.0",
    ),
    ("deprecated-odoo-model-method", "compliance", P2, "a model method the module's Odoo series deprecated"),
    ("odoo-exception-warning", "compliance", P2, "odoo.exceptions.Warning was removed: use UserError"),
    ("attribute-deprecated", "compliance", P2, "a deprecated model attribute"),
    ("renamed-field-parameter", "compliance", P2, "a field parameter Odoo renamed"),
    ("manifest-required-key", "compliance", P2, "a required manifest key (the licence) is missing"),
    ("license-allowed", "compliance", P2, "a licence Odoo's app store does not accept"),
    ("manifest-version-format", "compliance", P2, "the manifest version is not <series>.x.y.z"),
    ("manifest-author-string", "compliance", P2, "the manifest author must be a string"),
    ("manifest-data-duplicated", "compliance", P2, "a data file listed twice in the manifest"),
    ("translation-contains-variable", "compliance", P2, "a translated term built from variables"),
    ("translation-fstring-interpolation", "compliance", P2, "an f-string inside _(): it is never translated"),
    ("deprecated-self-cr", "compliance", P3, "self._cr is deprecated since 19.0: use self.env.cr"),
    ("prefer-env-translation", "compliance", P3, "use self.env._ for translations (18.0 and later)"),
    ("attribute-string-redundant", "compliance", P3, "string= repeats the field name (OCA guideline)"),
    ("manifest-superfluous-key", "compliance", P3, "a manifest key set to its default value"),
    ("manifest-deprecated-key", "compliance", P3, "a deprecated manifest key"),
    ("manifest-maintainers-list", "compliance", P3, "the manifest maintainers must be a list"),
    ("development-status-allowed", "compliance", P3, "a development_status OCA does not know"),
    ("missing-readme", "compliance", P3, "no README.rst (OCA guideline)"),
    ("missing-odoo-file", "compliance", P3, "a file the project requires is missing"),
    ("missing-odoo-file-app", "compliance", P3, "a file a paid app requires is missing"),
    ("manifest-required-key-app", "compliance", P3, "a manifest key a paid app requires is missing"),
    ("website-manifest-key-not-valid-uri", "compliance", P3, "the manifest website is not a URI"),
    ("invalid-email", "compliance", P3, "an invalid e-mail address"),
    ("translation-required", "compliance", P3, "a user-facing message without translation"),
    ("translation-field", "compliance", P3, "_() around a field string is useless"),
    ("translation-positional-used", "compliance", P3, "several positional placeholders in a translation"),
    ("translation-not-lazy", "compliance", P3, "a translation formatted before the call"),
    ("translation-format-interpolation", "compliance", P3, "a translation formatted with .format()"),
    ("odoo-addons-relative-import", "compliance", P3, "import the module itself relatively"),
    ("manifest-required-author", "compliance", P4, "the author the project requires (OCA by default)"),
    ("method-compute", "compliance", P4, "compute methods are named _compute_* (OCA guideline)"),
    ("method-search", "compliance", P4, "search methods are named _search_* (OCA guideline)"),
    ("method-inverse", "compliance", P4, "inverse methods are named _inverse_* (OCA guideline)"),
    ("no-wizard-in-models", "compliance", P4, "a wizard class in models/ (OCA layout)"),
    ("category-allowed", "compliance", P4, "a manifest category the project does not allow"),
    ("category-allowed-app", "compliance", P4, "a manifest category a paid app cannot use"),
    ("manifest-summary-multiline", "compliance", P4, "the manifest summary spans several lines"),
]

_OCA_ROWS: list[tuple] = [
    ("manifest-syntax-error", "compliance", P0, "the manifest does not parse: the module cannot load"),
    ("xml-syntax-error", "compliance", P0, "an XML data file does not parse: install fails"),
    ("csv-syntax-error", "compliance", P0, "a CSV data file does not parse: install fails"),
    (
        "xml-deprecated-res-groups-category-id",
        "compliance",
        P0,
        "res.groups.category_id was removed in 19.0: install fails",
    ),
    ("xml-duplicate-record-id", "compliance", P1, "two records share an XML id: one silently wins"),
    ("csv-duplicate-record-id", "compliance", P1, "two CSV rows share an XML id: one silently wins"),
    ("xml-duplicate-template-id", "compliance", P1, "two templates share an id: one silently wins"),
    ("po-syntax-error", "compliance", P1, "a translation file does not parse"),
    ("po-python-parse-printf", "compliance", P1, "a translation's %-placeholders do not match: it fails"),
    ("po-python-parse-format", "compliance", P1, "a translation's {}-placeholders do not match: it fails"),
    ("xml-deprecated-openerp-node", "compliance", P2, "the <openerp> root node is deprecated"),
    ("xml-deprecated-qweb-directive", "compliance", P2, "a deprecated QWeb t-*-options directive"),
    ("xml-deprecated-qweb-directive-15", "compliance", P2, "t-esc and t-raw are deprecated since 15.0"),
    ("xml-deprecated-tree-attribute", "compliance", P2, "a deprecated attribute of a list view"),
    (
        "xml-xpath-translatable-item",
        "compliance",
        P2,
        "an xpath on translatable text breaks in other languages",
    ),
    ("file-not-used", "compliance", P2, "a data file the manifest never loads"),
    ("xml-duplicate-fields", "compliance", P2, "a field set twice in one record"),
    ("xml-record-missing-id", "compliance", P2, "a record without an id"),
    ("po-duplicate-message-definition", "compliance", P2, "a translation defined twice"),
    ("po-duplicate-model-definition", "compliance", P2, "a model term translated twice"),
    ("xml-deprecated-oe-chatter", "compliance", P3, "use <chatter/> (18.0 and later)"),
    ("xml-deprecated-data-node", "compliance", P3, "a <data> node that is not needed"),
    ("xml-header-missing", "compliance", P3, "no <?xml ... ?> header (OCA guideline)"),
    ("xml-header-wrong", "compliance", P3, "the XML header is not the expected one (OCA guideline)"),
    ("xml-tag-position", "compliance", P3, "XML attributes out of the expected order (OCA guideline)"),
    ("xml-redundant-module-name", "compliance", P3, "an XML id prefixed with its own module name"),
    ("xml-field-bool-without-eval", "compliance", P3, "a boolean field value without eval"),
    ("xml-field-numeric-without-eval", "compliance", P3, "a numeric field value without eval"),
    ("xml-oe-structure-missing-id", "compliance", P3, "an oe_structure element without id"),
    ("xml-not-valid-char-link", "compliance", P3, "an invalid character in a link"),
    ("po-requires-module", "compliance", P3, "a translation entry without its module comment"),
    ("po-pretty-format", "compliance", P4, "a translation file not formatted as Odoo writes it"),
    ("prefer-readme-rst", "compliance", P4, "README.rst preferred to README.md (OCA)"),
    ("weblate-component-too-long", "compliance", P4, "the translation component name is too long"),
    ("xml-view-dangerous-replace-low-priority", "backend", P2, "a view replaces nodes at a low priority"),
    ("xml-dangerous-qweb-replace-low-priority", "backend", P2, "a QWeb template replaces at a low priority"),
    ("xml-create-user-wo-reset-password", "backend", P3, "a user created without no_reset_password"),
]

_OWN_ROWS: list[tuple] = [
    (
        "missing-model-access",
        "security",
        P2,
        "a new model without an ir.model.access entry: only the superuser can use it",
    ),
    ("sudo-call", "security", P3, "sudo() bypasses access rights and record rules: check what it exposes"),
]

# The fixers the tools ship, by the finding they fix.
_FIXERS: dict[tuple[str, str], str] = {
    (PYLINT, "attribute-string-redundant"): "fixit:field-string-redundant",
    (PYLINT, "manifest-superfluous-key"): "fixit:manifest-superfluous-key",
    (PYLINT, "prefer-env-translation"): "fixit:prefer-env-translation",
    **{
        (OCA, code): f"oca:{code}"
        for code in (
            "xml-header-missing",
            "xml-header-wrong",
            "xml-tag-position",
            "xml-field-bool-without-eval",
            "xml-field-numeric-without-eval",
            "xml-redundant-module-name",
            "xml-deprecated-qweb-directive-15",
            "xml-deprecated-res-groups-category-id",
        )
    },
}


def _with_fixers(table: dict[str, Rule]) -> dict[str, Rule]:
    out = {}
    for code, rule in table.items():
        fixer = _FIXERS.get((rule.tool, code))
        out[code] = Rule(rule.tool, rule.code, rule.dimension, rule.severity, rule.why, fixer)
    return out


RULES: dict[str, dict[str, Rule]] = {
    PYLINT: _with_fixers(_table(PYLINT, _PYLINT_ROWS)),
    OCA: _with_fixers(_table(OCA, _OCA_ROWS)),
    OWN: _table(OWN, _OWN_ROWS),
}

# pylint's message kinds, for a pylint-odoo message no table names.
_BY_KIND = {"F": P1, "E": P2, "W": P3, "R": P4, "C": P4, "I": P4}


def rule_for(tool: str, code: str, kind: str | None = None) -> Rule:
    """The rule of ``code`` from ``tool``; an unknown code goes to compliance, at P2 for a pylint error,
    P3 for a warning (and any unknown OCA check), P4 for a convention or refactoring message."""
    known = RULES.get(tool, {}).get(code)
    if known is not None:
        return known
    severity = _BY_KIND.get((kind or "W")[:1].upper(), P3)
    return Rule(tool, code, "compliance", severity, "not in gitorch-odoo's table: mapped by its kind")


def all_rules() -> list[Rule]:
    return [rule for table in RULES.values() for rule in table.values()]


def dimensions_of(tool: str) -> set[str]:
    """The dimensions ``tool``'s known messages go to (an unknown one goes to compliance)."""
    return {rule.dimension for rule in RULES[tool].values()} | {"compliance"}
