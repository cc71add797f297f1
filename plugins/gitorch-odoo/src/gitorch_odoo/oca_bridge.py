"""Run one oca-odoo-pre-commit-hooks command through its own Python API and print its messages as JSON.

This file is executed by the Python of the environment the OCA hooks are installed in (see
:mod:`gitorch_odoo.oca`), which need not have gitorch: it imports nothing but the standard library and
``oca_pre_commit_hooks``. It calls the very ``main(argv)`` of the command line scripts, so
``.oca_hooks.cfg``, ``OCA_HOOKS_ENABLE``/``OCA_HOOKS_DISABLE`` and in-file disable comments apply as
they do for ``oca-checks-odoo-module``, with ``--no-verbose --no-exit`` added: the messages come back
as objects instead of coloured text.

    python oca_bridge.py {module|fixit|po} [OPTIONS] PATH...   → [{"code", "message", "file", ...}]
"""

import json
import os
import sys

COMMANDS = {"module": "cli", "fixit": "cli_fixit", "po": "cli_po"}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        sys.stderr.write(f"usage: oca_bridge.py {{{','.join(COMMANDS)}}} [OPTIONS] PATH...\n")
        return 2
    import importlib

    from oca_pre_commit_hooks import utils

    cli = importlib.import_module(f"oca_pre_commit_hooks.{COMMANDS[argv[0]]}")
    errors = cli.main(["--no-verbose", "--no-exit", *argv[1:]]) or []
    # The hooks give paths relative to the top of the repository holding each module (the nearest .git:
    # a submodule's own top for a module inside one): try each input's top, then the current directory's.
    inputs = [a for a in argv[1:] if not a.startswith("-") and os.path.exists(a)]
    bases = list(
        dict.fromkeys([utils.top_path(os.path.abspath(a)) for a in inputs] + [utils.top_path(os.getcwd())])
    )
    out = []
    for error in errors:
        position = error.position
        path = position.filepath
        if not os.path.isabs(path):
            found = [os.path.join(b, path) for b in bases if os.path.exists(os.path.join(b, path))]
            path = found[0] if found else os.path.join(bases[-1], path)
        out.append(
            {
                "code": error.code,
                "message": error.message,
                "file": os.path.normpath(path),
                "line": position.line or None,
                "column": position.column or None,
                "info": error.info,
            }
        )
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
