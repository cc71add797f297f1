"""Run the fix loop with the stand-in agents in a subprocess (for the kill and Ctrl-C tests).

python run_loop.py REPO start|resume
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import loopfakes  # noqa: E402
import loophelpers as conftest  # noqa: E402

from gitorch.loop import LoopUI, resume_run, start_run  # noqa: E402
from gitorch.plugin.manager import get_plugins  # noqa: E402

root = Path(sys.argv[1])
plugins = get_plugins([], modules={"dimensions": "gitorch_dimensions", "fakes": loopfakes})
config = conftest.loop_config(root)
ui = LoopUI(progress=lambda m: print(m, flush=True))
if sys.argv[2] == "start-tty":  # the command line's own UI: a y/N prompt when on a terminal
    from gitorch.cli.fix import loop_ui

    state = start_run(root, config, plugins, conftest.options(config), loop_ui(yes=False))
elif sys.argv[2] == "start":
    state = start_run(root, config, plugins, conftest.options(config), ui)
else:
    state = resume_run(root, config, plugins, ui=ui)
sys.exit(state.exit_code)
