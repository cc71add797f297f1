"""pylint-odoo (and gitorch-odoo's own checker) over Odoo modules, JSON out."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from gitorch.errors import AgentError
from gitorch.process.runner import run_process

# NOTE: the repository's own pylint configuration is not read (a fixed, empty rcfile): an OCA repository's
# .pylintrc enables a different message set per file and the audit must not depend on it. Messages are
# chosen here, and pylint's inline `# pylint: disable=...` comments still apply.
RCFILE = Path(__file__).with_name("pylintrc")
PLUGINS = "pylint_odoo,gitorch_odoo.pylint_checkers"
CHECKERS = "odoolint,gitorch-odoo,syntax-error"
# pylint's exit status is a bit mask: 1 fatal, 2 error, 4 warning, 8 refactor, 16 convention, 32 usage error.
USAGE_ERROR = 32


@dataclass(frozen=True)
class PylintMessage:
    """One pylint message; ``file`` is absolute."""

    symbol: str
    message_id: str
    kind: str
    message: str
    file: str
    line: int | None
    end_line: int | None


def command(paths: list[str], series: str | None, disable: list[str]) -> list[str]:
    """The pylint argv for ``paths`` (module directories), checking against Odoo ``series``."""
    argv = [
        sys.executable,
        "-m",
        "pylint",
        f"--rcfile={RCFILE}",
        f"--load-plugins={PLUGINS}",
        "--disable=all",
        f"--enable={CHECKERS}",
        "--output-format=json2",
        "--persistent=n",
        "--score=n",
        "--jobs=1",
    ]
    if series:
        argv.append(f"--valid-odoo-versions={series}")
    if disable:
        argv.append(f"--disable={','.join(disable)}")
    return argv + paths


def run(argv: list[str], cwd: Path, timeout: float) -> list[PylintMessage]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYLINTRC", None)
    done = run_process(argv, cwd=cwd, env=env, timeout=timeout)
    if done.timed_out:
        raise AgentError(f"pylint-odoo did not finish within {timeout:g}s")
    if done.exit_code is None or done.exit_code & USAGE_ERROR:
        raise AgentError(f"pylint exited {done.exit_code}: {(done.stderr or done.stdout).strip()[-600:]}")
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        tail = (done.stderr or done.stdout).strip()[-600:]
        raise AgentError(f"pylint exited {done.exit_code} without JSON output: {tail}") from None
    out = []
    for item in data.get("messages", []):
        if item.get("messageId", "").startswith("F") and item.get("symbol") in ("fatal", "astroid-error"):
            raise AgentError(f"pylint could not analyse {item.get('path')}: {item.get('message')}")
        path = item.get("absolutePath") or str(cwd / item.get("path", ""))
        out.append(
            PylintMessage(
                symbol=item["symbol"],
                message_id=item.get("messageId", ""),
                kind=item.get("type", "warning"),
                message=item.get("message", ""),
                file=path,
                line=item.get("line") or None,
                end_line=item.get("endLine") or None,
            )
        )
    return out
