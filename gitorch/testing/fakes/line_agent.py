#!/usr/bin/env python3
"""A stand-in AI coding CLI for gitorch's ``command`` agent: it deletes the line a fix prompt points at.

    [agents.command]
    command = "python /path/to/line_agent.py {prompt_file} {workdir}"

It reads the finding's ``**Location:** `file:line``` from the prompt gitorch wrote, deletes that line
under ``workdir`` and prints what it did. Environment:

- ``LINE_AGENT_MODEL_URL``: ask this model endpoint (the loopback model server of
  :mod:`gitorch.testing.model_server`, OpenAI chat completions) which line to delete, sending it the
  prompt; the answer is a JSON object ``{"file": ..., "line": ...}``. The call then takes as long as
  the server makes it (``ModelServer(latency_s=...)``): a model with a fixed time per call.
- ``LINE_AGENT_SLOW`` and ``LINE_AGENT_SIGNAL``: for a finding in the file ``LINE_AGENT_SLOW``, write this
  process's pid to ``LINE_AGENT_SIGNAL`` and sleep until killed (a call that a test kills mid-way).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.request
from pathlib import Path

LOCATION = re.compile(r"\*\*Location:\*\* `([^`]+?):(\d+)`")


def ask_model(url: str, prompt: str) -> tuple[str, int]:
    body = json.dumps({"model": "line-agent", "messages": [{"role": "user", "content": prompt}]}).encode()
    request = urllib.request.Request(
        url.rstrip("/") + "/v1/chat/completions",
        data=body,
        headers={"content-type": "application/json", "authorization": "Bearer local"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - a loopback URL
        answer = json.loads(json.loads(response.read())["choices"][0]["message"]["content"])
    return answer["file"], int(answer["line"])


def main(prompt_file: str, workdir: str) -> int:
    prompt = Path(prompt_file).read_text(encoding="utf-8")
    found = LOCATION.search(prompt)
    if found is None:
        print("no location in the prompt", file=sys.stderr)
        return 2
    file, line = found.group(1), int(found.group(2))
    if os.environ.get("LINE_AGENT_MODEL_URL"):
        file, line = ask_model(os.environ["LINE_AGENT_MODEL_URL"], prompt)
    if file == os.environ.get("LINE_AGENT_SLOW") and os.environ.get("LINE_AGENT_SIGNAL"):
        Path(os.environ["LINE_AGENT_SIGNAL"]).write_text(str(os.getpid()))
        while True:
            time.sleep(1)
    target = Path(workdir) / file
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    del lines[line - 1]
    target.write_text("".join(lines), encoding="utf-8")
    print(f"Deleted line {line} of {file}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
