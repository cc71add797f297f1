"""``gitorch plan``: a repository's work units (module × dimension) and what each would cost to audit.

A unit is what one CI job runs: ``gitorch audit --path <path> --dim <dimension>`` (or ``gitorch fix
--module <module>``); ``gitorch merge`` puts the units' results back together. The JSON form is a GitHub
Actions matrix as it is (``{"include": [...]}``, read with ``fromJSON``).

The cost is an estimate made before anything runs: the lines of code the score is normalised by, the
agent the routing picks for the module, and for an AI agent the worst-case tokens of one audit (its
``overhead_tokens`` for the system prompt and tools, the module's source read once at
:data:`~gitorch.services.budget.BYTES_PER_TOKEN`, and ``max_output_tokens`` out) with their price. The
embedded agent calls no model: 0 tokens.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gitorch.audit.discovery import CODE_SUFFIXES, count_loc, iter_source_files
from gitorch.audit.modules import Module, find_modules, rest_of
from gitorch.audit.run import choose_agent, make_agent
from gitorch.config import Config
from gitorch.errors import UsageError
from gitorch.plugin.manager import Plugins

#: GitHub Actions refuses a matrix of more jobs than this.
MATRIX_LIMIT = 256


@dataclass(frozen=True)
class Unit:
    """One work unit: a module audited along one dimension, with its estimated cost."""

    id: str
    slug: str
    module: str
    path: str
    kind: str
    dimension: str
    agent: str
    loc: int
    files: int
    estimated_tokens: int
    estimated_usd: float


@dataclass
class Plan:
    units: list[Unit] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def matrix(self) -> dict:
        """The GitHub Actions matrix: ``{"include": [unit, ...]}``."""
        return {"include": [asdict(unit) for unit in self.units]}

    @property
    def estimated_tokens(self) -> int:
        return sum(u.estimated_tokens for u in self.units)

    @property
    def estimated_usd(self) -> float:
        return round(sum(u.estimated_usd for u in self.units), 4)


def make_plan(root: Path, config: Config, plugins: Plugins, dimensions: list[str]) -> Plan:
    """The units of ``root`` for ``dimensions`` (a module's own ``dimensions`` in ``[[modules]]`` narrow
    them). A dimension no agent can audit in a module is skipped with a note, not an error: an Odoo
    compliance audit has nothing to do in a plain Python package."""
    root = root.resolve()
    modules = find_modules(root, config, plugins)
    if config.modules is None:
        modules += rest_of(root, modules, config.exclude)
    plan = Plan(modules=modules)
    for module in modules:
        sizes = _sizes(root, module.path, config)
        for dimension in dimensions:
            if module.dimensions is not None and dimension not in module.dimensions:
                continue
            try:
                agent = choose_agent(plugins, dimension, config, root=root, path=module.path)
            except UsageError as exc:
                plan.skipped.append(f"{dimension} of {module.name}: {exc}")
                continue
            tokens, usd = _estimate(plugins, agent, config, sizes[2])
            unit_id = f"{dimension}:{module.path}"
            plan.units.append(
                Unit(
                    id=unit_id,
                    slug=slugify(unit_id),
                    module=module.name,
                    path=module.path,
                    kind=module.kind,
                    dimension=dimension,
                    agent=agent,
                    loc=sizes[0],
                    files=sizes[1],
                    estimated_tokens=tokens,
                    estimated_usd=usd,
                )
            )
    return plan


def slugify(text: str) -> str:
    """A name safe for an artifact or a file: letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "root"


def _sizes(root: Path, path: str, config: Config) -> tuple[int, int, int]:
    """(lines of code, code files, bytes of source) under ``path``, counted as discovery counts them."""
    loc = files = size = 0
    for rel in iter_source_files(root, path, config.exclude):
        if rel.suffix not in CODE_SUFFIXES:
            continue
        files += 1
        loc += _loc(root / rel)
        try:
            size += (root / rel).stat().st_size
        except OSError:
            continue
    return loc, files, size


def _loc(path: Path) -> int:
    try:
        return count_loc(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return 0


def _estimate(plugins: Plugins, agent: str, config: Config, source_bytes: int) -> tuple[int, float]:
    """Worst-case (tokens, USD) of ``agent`` auditing ``source_bytes`` of source; (0, 0.0) without a model."""
    from gitorch.services.budget import BYTES_PER_TOKEN, estimate_call_cost

    instance = make_agent(plugins, agent, config)
    options = instance.options
    if not hasattr(instance, "estimate_usd") or not hasattr(options, "max_output_tokens"):
        return 0, 0.0
    source_tokens = math.ceil(source_bytes / BYTES_PER_TOKEN)
    overhead = getattr(options, "overhead_tokens", 0) + source_tokens
    output = options.max_output_tokens
    usd = estimate_call_cost(
        "", getattr(options, "model", None), output, config.pricing, overhead_tokens=overhead
    )
    return overhead + output, round(usd, 4)
