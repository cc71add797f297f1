"""Configuration: defaults, then ``.gitorch.toml`` or ``[tool.gitorch]`` in ``pyproject.toml``, then flags.

Every table forbids unknown keys, so a typo is an error naming the file, the key and the reason.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gitorch.errors import ConfigError

CONFIG_FILE = ".gitorch.toml"
TASKS = ("audit", "fix", "documentation", "complex")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Confirmations(_Strict):
    """When a fix attempt needs a human's yes before it is tested and committed."""

    deleted_lines: int = Field(50, ge=0, description="ask when an attempt deletes more lines than this")
    files: int = Field(5, ge=0, description="ask when an attempt touches more files than this")
    deletions: bool = Field(True, description="ask when an attempt deletes a file")
    new_modules: bool = Field(True, description="ask when an attempt adds a new module (package)")
    migrations: bool = Field(True, description="ask when an attempt touches a migration")
    # NOTE: no "**/models/**": in an Odoo module that is every model's code, so every Python fix would
    # ask; a single-file data model (Django's models.py) stays. Plugins add their project kind's own
    # (gitorch-odoo: the manifest and the access rules), see gitorch_gate_defaults.
    core_files: list[str] = Field(
        default_factory=lambda: ["**/__init__.py", "**/models.py"],
        description="globs of core files whose change needs confirmation",
    )
    migration_globs: list[str] = Field(
        default_factory=lambda: ["**/migrations/**", "**/alembic/**", "**/*migration*.py"],
    )


class Protected(_Strict):
    """Paths whose change rejects an attempt outright (test and CI configuration)."""

    test_files: list[str] = Field(
        default_factory=lambda: ["**/test_*.py", "**/*_test.py", "**/tests/**", "**/conftest.py"]
    )
    test_config: list[str] = Field(
        default_factory=lambda: [
            # what configures test collection or runs the tests, dotfile variants included
            "pytest.ini",
            ".pytest.ini",
            "pytest.toml",
            ".pytest.toml",
            "tox.ini",
            "noxfile.py",
            ".coveragerc",
            "conftest.py",
            "sitecustomize.py",
            "usercustomize.py",
            "*.pth",
            ".gitorch.toml",
            ".gitorch/**",
            # CI
            ".github/**",
            ".gitlab-ci.yml",
            ".ci/**",
            ".circleci/**",
            "Jenkinsfile",
            "azure-pipelines.yml",
            ".travis.yml",
            "bitbucket-pipelines.yml",
            ".pre-commit-config.yaml",
        ]
    )
    test_config_sections: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "pyproject.toml": [
                "tool.pytest",
                "tool.coverage",
                "tool.tox",
                "tool.nox",
                "tool.hatch.envs",
                "project.entry-points.pytest11",
            ],
            "setup.cfg": [
                "tool:pytest",
                "coverage:run",
                "coverage:report",
                "coverage:paths",
                "options.entry_points",
            ],
        },
        description="files whose named sections (not the rest) are test configuration",
    )


class TestsSettings(_Strict):
    """The tests dimension of the embedded agent and the loop's test phase."""

    command: str = Field("python -m pytest -q", description="the project's test command")
    timeout_s: float = Field(900, gt=0)
    coverage_min: float = Field(80.0, ge=0, le=100, description="total coverage below this is a finding")
    module_coverage_min: float = Field(50.0, ge=0, le=100, description="a module below this is a finding")
    retries: int = Field(1, ge=0, description="retries of a fix attempt whose tests failed")


class Route(_Strict):
    """Agent chains per task: the first available agent runs, the next ones are fallbacks.

    ``audit_with`` is not a chain: every agent it names audits too, and its findings are merged into the
    audit's (by fingerprint, one score). Unset, the agents plugins declare as contributing do so; ``[]``
    turns that off.
    """

    audit: list[str] | None = None
    fix: list[str] | None = None
    documentation: list[str] | None = None
    complex: list[str] | None = None
    audit_with: list[str] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class Routing(Route):
    """Chains per task, and per-dimension overrides under ``[routing.<dimension>]``.

    A chain the configuration leaves unset is filled, where plugins are known, with the agents that
    declare themselves ``default`` (:func:`gitorch.audit.agent_chain`): the configuration names no
    agent by default.
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    def chain(
        self, task: str, dimension: str | None = None, default: list[str] | None = None
    ) -> list[str] | None:
        """The configured chain for ``task`` (and ``dimension``): the dimension's override, else the
        task's chain, else the fix chain; ``default`` when none is set."""
        override = self.for_dimension(dimension)
        if override is not None and getattr(override, task) is not None:
            return list(getattr(override, task))
        configured = getattr(self, task) or self.fix
        if configured:
            return list(configured)
        return None if default is None else list(default)

    def contributors(self, dimension: str | None) -> list[str] | None:
        """The configured ``audit_with`` of ``dimension``: the dimension's own, else the top-level one;
        None when neither is set (then plugins' declarations apply)."""
        override = self.for_dimension(dimension)
        if override is not None and override.audit_with is not None:
            return list(override.audit_with)
        return None if self.audit_with is None else list(self.audit_with)

    def for_dimension(self, dimension: str | None) -> Route | None:
        if not dimension or not self.model_extra or dimension not in self.model_extra:
            return None
        value = self.model_extra[dimension]
        return value if isinstance(value, Route) else Route.model_validate(value)


class ModuleSpec(_Strict):
    """One ``[[modules]]`` entry: a part of the repository audited and fixed as a unit (``gitorch plan``)."""

    path: str = Field(description="the module's directory, relative to the repository root")
    name: str | None = Field(None, description="its name in plans and reports (default: the directory's)")
    dimensions: list[str] | None = Field(
        None, description="the dimensions planned for it (default: those of the command)"
    )


class Price(_Strict):
    """USD per million tokens."""

    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    output: float = Field(ge=0)


class Config(_Strict):
    """Everything gitorch reads from configuration. Defaults follow the original design."""

    max_iterations: int = Field(10, ge=1)
    max_budget_usd: float = Field(5.0, ge=0)
    target_score: float = Field(100.0, ge=0, le=100)
    min_acceptable_score: float = Field(80.0, ge=0, le=100)
    command_prefix: str = Field(
        "", description="prefix for project commands, e.g. 'docker compose exec odoo'"
    )
    templates_dir: str = Field(
        ".gitorch/templates", description="repository templates overriding the built-in ones"
    )
    default_dimensions: list[str] = Field(default_factory=lambda: ["security", "backend"])
    exclude: list[str] = Field(
        default_factory=lambda: [
            ".git",
            ".venv",
            "venv",
            "node_modules",
            "build",
            "dist",
            ".tox",
            "__pycache__",
        ],
        description="directories analyzers skip: a bare name at any depth, a path with a slash from the root",
    )
    stall_iterations: int = Field(3, ge=1, description="iterations without improvement before stopping")
    worktree_location: Literal["auto", "git-dir", "cache"] = Field(
        "auto",
        description="where run worktrees live: inside the git directory, or in the user cache directory "
        "(auto: the git directory unless an agent of the run cannot edit files under a .git path)",
    )
    sandbox: Literal["auto", "required", "off"] = Field(
        "auto",
        description="where agents and tests run: in a bubblewrap sandbox when it can start, else on the host "
        "with the fallback guard (auto); always in the sandbox, refusing to start without it (required); "
        "never (off: the fallback guard only)",
    )
    agent_timeout_s: float = Field(900, gt=0)
    jobs: int = Field(1, ge=1, le=64, description="agent calls of a fix run at once (gitorch fix --jobs)")
    modules: list[ModuleSpec] | None = Field(
        None, description="the repository's modules (`[[modules]]`), instead of finding them (gitorch plan)"
    )
    confirm: Confirmations = Field(default_factory=Confirmations)
    protected: Protected = Field(default_factory=Protected)
    tests: TestsSettings = Field(default_factory=TestsSettings)
    routing: Routing = Field(default_factory=Routing)
    agents: dict[str, dict[str, Any]] = Field(default_factory=dict, description="per-agent options tables")
    pricing: dict[str, Price] = Field(
        default_factory=dict, description="model prices overriding the shipped table"
    )
    source: str | None = Field(default=None, exclude=True, description="the file this was read from")

    def agent_options(self, agent_cls: type) -> Any:
        """Validate ``[agents.<name>]`` against the agent's ``Options`` model."""
        raw = self.agents.get(agent_cls.name, {})
        try:
            return agent_cls.Options.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, self.source, prefix=f"agents.{agent_cls.name}")) from None


#: The glob lists plugins may extend (``gitorch_gate_defaults``): ``section.field`` of :class:`Config`.
GATE_GLOBS = (
    "confirm.core_files",
    "confirm.migration_globs",
    "protected.test_files",
    "protected.test_config",
)


def with_gate_defaults(config: Config, additions: Mapping[str, Sequence[str]]) -> Config:
    """``config`` with ``additions`` (``{"confirm.core_files": [globs]}``, from plugins) appended to each
    glob list of :data:`GATE_GLOBS` the configuration left unset; a list it sets is kept as it is."""
    if not any(additions.values()):
        return config
    updated = config.model_copy(deep=True)
    for key, globs in additions.items():
        if key not in GATE_GLOBS:
            raise ValueError(f"not a gate glob list: {key!r} (one of {', '.join(GATE_GLOBS)})")
        section_name, field = key.split(".")
        section = getattr(updated, section_name)
        if field in section.model_fields_set:
            continue
        setattr(section, field, list(dict.fromkeys([*getattr(section, field), *globs])))
        section.model_fields_set.discard(field)  # still a default: what the user set is what they wrote
    return updated


def _describe(exc: ValidationError, source: str | None, prefix: str = "") -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    if prefix:
        key = f"{prefix}.{key}" if key else prefix
    reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
    where = source or "configuration"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"{where}: {key}: {reason}{more}"


def find_config_file(root: Path) -> tuple[Path, str] | None:
    """``(.gitorch.toml, "")`` or ``(pyproject.toml, "tool.gitorch")`` in ``root``, if present."""
    own = root / CONFIG_FILE
    if own.is_file():
        return own, ""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return None
        if "gitorch" in data.get("tool", {}):
            return pyproject, "tool.gitorch"
    return None


def load_config(root: Path, overrides: dict[str, Any] | None = None, *, file: Path | None = None) -> Config:
    """Read the configuration for the repository at ``root`` and apply ``overrides`` (CLI flags)."""
    found = (file, "") if file is not None else find_config_file(root)
    data = _read_table(*found) if found is not None else {}
    source = str(found[0]) if found is not None else None
    for key, value in (overrides or {}).items():
        if value is not None:
            _set_dotted(data, key, value)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, prefix=found[1] if found else "")) from None
    config.source = source
    _check(config)
    return config


def _check(config: Config) -> None:
    """What one key cannot say alone: score thresholds in order, per-dimension routing tables valid."""
    if config.min_acceptable_score > config.target_score:
        raise ConfigError(
            f"{config.source or 'configuration'}: min_acceptable_score: must not exceed target_score"
        )
    for name in config.routing.model_extra or {}:
        try:
            config.routing.for_dimension(name)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, config.source, prefix=f"routing.{name}")) from None


def _read_table(path: Path, table: str) -> dict[str, Any]:
    """The TOML table ``table`` (dotted; ``""`` for the whole file) of ``path``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for part in filter(None, table.split(".")):
        raw = raw.get(part, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: {table}: expected a table")
    return raw


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    for parent in parents:
        data = data.setdefault(parent, {})
    data[leaf] = value


_STARTER = """\
# gitorch configuration. Every key is optional; the values shown are the defaults.
# Unknown keys are an error, so a typo never passes silently.

# Loop limits (gitorch fix)
max_iterations = 10          # iteration cap
max_budget_usd = 5.00        # spending cap across all agent calls, in USD
target_score = 100           # stop when every audited dimension reaches this score
min_acceptable_score = 80    # P2/P3 enhancements start once the score is at least this

# Prefix for running project commands, e.g. "docker compose exec odoo"
command_prefix = ""

# Repository prompt templates that override gitorch's built-in ones
templates_dir = ".gitorch/templates"

# Dimensions audited when no --dim is given
default_dimensions = ["security", "backend"]

# Directories analyzers and the line count skip: a bare name at any depth, a path with a slash
# (for example "src/generated") from the repository root
exclude = [".git", ".venv", "venv", "node_modules", "build", "dist", ".tox", "__pycache__"]

# Iterations without improvement (after a change of strategy) before the loop stops
stall_iterations = 3

# Where agents and tests run: "auto" (in a bubblewrap sandbox when it can start, else on the host
# with the fallback guard), "required" (refuse to run without the sandbox), or "off"
sandbox = "auto"

# Wall-clock limit of one agent call, in seconds
agent_timeout_s = 900

# Agent calls of a fix run at once, each in a worktree of its own, on findings in different files
jobs = 1

# Where run worktrees live: "git-dir", "cache", or "auto" (the git directory, unless an agent of
# the run cannot edit files under a .git path, as Claude Code in acceptEdits mode)
worktree_location = "auto"

[tests]
command = "python -m pytest -q"   # the project's test command
timeout_s = 900
coverage_min = 80                 # total coverage under this is a finding (tests dimension)
module_coverage_min = 50          # a module under this is a finding
retries = 1                       # retries of a fix whose tests failed, with the failure output

[confirm]
# A fix attempt above these thresholds needs a human's yes (or --yes).
deleted_lines = 50
files = 5
deletions = true
new_modules = true
migrations = true
# So does one that touches these. Left commented out, the lists are gitorch's defaults plus those of
# the installed plugins (as shown); a list set here replaces both.
{confirm}

[protected]
# An attempt that deletes or weakens a test, or changes the test or CI configuration, is rejected.
{protected}
# In these files only the named sections are test configuration (the rest may change):
{sections}

[routing]
# Agent chains per task; the first available agent runs, the next ones are fallbacks. Unset, a
# chain holds the agents that plugins declare as default: gitorch's embedded agent "local" for every
# dimension, and a plugin's agent for the dimensions it names (gitorch-odoo: "odoo" for compliance).
# An agent with nothing to audit in the tree (no Odoo module for "odoo") is passed over.
# audit = ["local"]
# fix = ["local"]
# documentation = ["local"]   # documentation tasks (unset: the fix chain)
# complex = ["local"]         # refactoring and other large tasks (unset: the fix chain)

# Per-dimension override, for example an AI agent for compliance:
# [routing.compliance]
# audit = ["claude", "gemini"]
# fix = ["claude"]

# Agents whose findings are merged into a dimension's audit (one score). Unset, the agents plugins
# declare as contributing to it (each only in trees it applies to); a list set here replaces them,
# and [] merges none:
# [routing.security]
# audit_with = ["claude"]

# The repository's modules, as `gitorch plan` lists them; unset, gitorch finds them (Python
# packages, and the modules plugins know, such as Odoo's). A list set here replaces that:
# [[modules]]
# path = "services/billing"
# name = "billing"                       # default: the directory's name
# dimensions = ["security", "backend"]   # default: the command's

# Per-agent options:
# [agents.claude]
# model = "sonnet"

# Model prices in USD per million tokens, overriding the shipped table (gitorch/data/prices.toml);
# an unknown model is priced at the most expensive known rate.
# [pricing."my-model"]
# input = 3.0
# cached_input = 0.3
# output = 15.0
"""


def starter_config(additions: Mapping[str, Sequence[tuple[str, str]]] | None = None) -> str:
    """The commented ``.gitorch.toml`` ``gitorch init`` writes. ``additions`` maps each glob list of
    :data:`GATE_GLOBS` to ``(glob, plugin)`` pairs plugins add to its default; each is shown."""
    additions = additions or {}
    blocks: dict[str, list[str]] = {"confirm": [], "protected": []}
    for key in GATE_GLOBS:
        section, field = key.split(".")
        default = getattr(getattr(Config(), section), field)
        added = [(glob, plugin) for glob, plugin in additions.get(key, ()) if glob not in default]
        globs = [*default, *dict.fromkeys(glob for glob, _ in added)]
        blocks[section].append(f"# {field} = [{', '.join(_toml_string(g) for g in globs)}]")
        for plugin in dict.fromkeys(plugin for _, plugin in added):
            mine = ", ".join(_toml_string(g) for g, p in added if p == plugin)
            blocks[section].append(f"#   (plugin {plugin} adds {mine})")
    sections = "\n".join(
        f"# {_toml_string(name)} = [{', '.join(_toml_string(s) for s in names)}]"
        for name, names in Protected().test_config_sections.items()
    )
    return (
        _STARTER.replace("{confirm}", "\n".join(blocks["confirm"]))
        .replace("{protected}", "\n".join(blocks["protected"]))
        .replace("{sections}", f"# [protected.test_config_sections]\n{sections}")
    )


def _toml_string(text: str) -> str:
    import json

    return json.dumps(text)  # a TOML basic string is a JSON string for the characters globs use


STARTER_CONFIG = starter_config()
