"""The OCA checks (oca-odoo-pre-commit-hooks), run in the environment they are installed in.

NOTE: oca-odoo-pre-commit-hooks pins ``fixit==2.2.1``, which pins ``click<8.2``, while semgrep (a gitorch
dependency) pins ``click~=8.4``: installing both in one environment breaks one of them. So the hooks live
in an environment of their own (``pipx install oca-odoo-pre-commit-hooks``, or any venv) and gitorch-odoo
runs :mod:`gitorch_odoo.oca_bridge` with that environment's Python, found from the
``oca-checks-odoo-module`` script (or given as ``[agents.odoo] oca_python``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from gitorch.errors import AgentError
from gitorch.process.runner import run_process

SCRIPT = "oca-checks-odoo-module"
INSTALL_HINT = (
    "install oca-odoo-pre-commit-hooks in an environment of its own (pipx install oca-odoo-pre-commit-hooks) "
    "or set [agents.odoo] oca_python"
)
BRIDGE = Path(__file__).with_name("oca_bridge.py")


@dataclass(frozen=True)
class OcaMessage:
    """One message of an OCA check; ``file`` is absolute."""

    code: str
    message: str
    file: str
    line: int | None
    column: int | None
    info: str | None = None


def find_python(override: str | None = None) -> str | None:
    """The Python of the environment holding oca-odoo-pre-commit-hooks, or None.

    ``override`` (an executable or a path) wins; otherwise the ``oca-checks-odoo-module`` script next to
    gitorch's Python, then on ``PATH``, gives its environment: the ``python`` beside the script it
    resolves to (a venv or pipx layout), else the interpreter of its ``#!`` line.
    """
    if override:
        return shutil.which(override) or (override if Path(override).is_file() else None)
    beside = Path(sys.executable).parent / SCRIPT
    script = str(beside) if beside.is_file() else shutil.which(SCRIPT)
    if script is None:
        return None
    real = Path(script).resolve()
    for name in ("python", "python3"):
        candidate = real.parent / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    try:
        first = real.read_bytes().split(b"\n", 1)[0].decode("utf-8", "replace")
    except OSError:
        return None
    if first.startswith("#!"):
        interpreter = first[2:].strip().split(" ")[0]
        if Path(interpreter).is_file() and "python" in Path(interpreter).name:
            return interpreter
    return None


def run(
    python: str,
    command: str,
    paths: list[str],
    cwd: Path,
    *,
    options: list[str] | None = None,
    timeout: float = 600,
) -> list[OcaMessage]:
    """Run OCA ``command`` ("module", "fixit" or "po") on ``paths`` from ``cwd``; its messages."""
    argv = [python, str(BRIDGE), command, *(options or []), *paths]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONSAFEPATH": "1", "PRE_COMMIT": "1"}
    env.pop("PYTHONPATH", None)  # gitorch's environment must not leak into the hooks' one
    try:
        done = run_process(argv, cwd=cwd, env=env, timeout=timeout)
    except FileNotFoundError:
        raise AgentError(f"cannot run {python}: not found; {INSTALL_HINT}") from None
    if done.timed_out:
        raise AgentError(f"the OCA checks ({command}) did not finish within {timeout:g}s")
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        tail = (done.stderr or done.stdout).strip()[-600:]
        raise AgentError(
            f"the OCA checks ({command}) exited {done.exit_code} without a result: {tail}"
        ) from None
    return [OcaMessage(**item) for item in data]


def version(python: str) -> str | None:
    """The installed oca-odoo-pre-commit-hooks version, for the audit's notes."""
    code = "from importlib.metadata import version; print(version('oca-odoo-pre-commit-hooks'))"
    try:
        done = run_process([python, "-c", code], cwd=Path.cwd(), timeout=60)
    except FileNotFoundError:
        return None
    if done.exit_code != 0:
        return None
    return done.stdout.strip() or None
