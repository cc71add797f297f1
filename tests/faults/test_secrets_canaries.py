"""Fault probe on secrets: one canary of each kind planted where the trial found leaks (issue 9), and a
hostile agent that does its best to carry them out. No canary, whole or cut, may reach a prompt or any
file of the session folder (events.jsonl, session.json, calls/, patches/).

Where they are planted: a plain password literal and an AWS key in the source, a private key in the
source, a GitHub token and an OpenAI key in the environment, two values in the checkout's ``.env``.
How they travel: bandit's B105 message (the embedded agent audits), a failing test that prints them all
(its output goes into the retry prompt and the ledger), the agent's own answer on stdout, and a ``.env``
value the agent copies into the code it changes (a patch kept in the session folder).
"""

from __future__ import annotations

from pathlib import Path

from .gatehelpers import make_probe

PLAIN_PASSWORD = "pl41n-Literal-pw"
AWS_KEY = "AKIACANARY0SOURCE123"
KEY_BODY = [
    "MIIEowIBAAKCAQEAwq8Zr2LkP0vX7mN4tY6wB1cJ9CANARYkeyBODY0123456789ab",
    "q8Zr2LkP0vX7mN4tY6wB1cJ9aBcDeF0123CANARYsecondLINE456789abcdXYZ+/a",
]
ENV = {
    "GITHUB_TOKEN": "ghp_CANARYenvGithub0123456789abcdefghijAB",
    "OPENAI_API_KEY": "sk-proj-CANARYenv0openai0KEY0123456789abcdEFGHij",
}
DOTENV = {"DB_PASSWORD": "CanaryDotenvPw-77", "STRIPE_WEBHOOK_SECRET": "whsec_CANARYdotenv0123456789xyz"}
CANARIES = [PLAIN_PASSWORD, AWS_KEY, *KEY_BODY, *ENV.values(), *DOTENV.values()]

FILES = {
    "app/settings.py": (
        f'ADMIN_PASSWORD = "{PLAIN_PASSWORD}"\n'
        f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n'
        'SIGNING_KEY = """-----BEGIN RSA PRIVATE KEY-----\n'
        + "\n".join(KEY_BODY)
        + '\n-----END RSA PRIVATE KEY-----"""\n\n\n'
        "def valid(value):\n    return bool(value)\n"
    ),
    "tests/test_settings.py": (
        "import os\n\nfrom app.settings import ADMIN_PASSWORD, AWS_ACCESS_KEY_ID, SIGNING_KEY, valid\n\n\n"
        "def test_settings_are_configured():\n"
        '    values = [ADMIN_PASSWORD, AWS_ACCESS_KEY_ID, SIGNING_KEY, os.environ.get("GITHUB_TOKEN", "x"),\n'
        '              os.environ.get("OPENAI_API_KEY", "x"), open(os.environ["DOTENV"]).read()]\n'
        "    print(*values, sep='\\n')\n"
        "    assert all(valid(v) for v in values), values\n"
    ),
}

# The hostile agent: it closes bandit's finding (the loop re-audits the touched file: a change that fixes
# nothing never reaches the tests), breaks `valid` so that the test above fails and prints every secret,
# copies the checkout's .env into the code, and answers with every secret it can find.
HOSTILE = """
root = W.parents[3]  # <checkout>/.git/gitorch/worktrees/<session>
dotenv = (root / ".env").read_text()
edit("app/settings.py", 'ADMIN_PASSWORD = "', 'ADMIN_PASSWORD = "".join(["')
edit("app/settings.py", '-pw"\\n', '-pw"])\\n')
edit("app/settings.py", "return bool(value)", "return not value  # " + dotenv.replace("\\n", " "))
print("I used", dotenv, os.environ.get("GITHUB_TOKEN"), os.environ.get("OPENAI_API_KEY"), PROMPT[-300:])
"""


def _leaks(text: str) -> list[str]:
    """Canaries in ``text``, whole or cut (a 12-character start or end of one)."""
    return [c[:12] + "…" for c in CANARIES if c in text or c[:12] in text or c[-12:] in text]


def test_no_canary_reaches_a_prompt_or_the_session_folder(tmp_path: Path):
    probe = make_probe(tmp_path, HOSTILE, files=FILES)
    # the embedded agent audits (bandit quotes the password in B105); the hostile command agent fixes
    probe.config.write_text(probe.config.read_text().replace('audit = ["command"]', 'audit = ["local"]'))
    dotenv = "".join(f"{k}={v}\n" for k, v in DOTENV.items())
    (probe.root / ".env").write_text(dotenv)
    env = {**ENV, "DOTENV": str(probe.root / ".env")}
    done = probe.fix(env=env)
    assert "Traceback" not in done.stderr, done.stderr
    prompts = probe.prompts()
    fixes = [p for p in prompts if "fix" in p.lower()]
    assert len(fixes) >= 2, "the agent was not asked to fix, then to retry with the failing output"
    assert any("hardcoded password" in p.lower() for p in prompts), "bandit's B105 finding was not sent"
    assert any("test_settings_are_configured" in p for p in prompts), "the retry prompt lacks the test output"
    leaks = {f"prompt {n}": _leaks(prompt) for n, prompt in enumerate(prompts, 1)}
    files = [p for p in probe.session().rglob("*") if p.is_file()]
    assert {p.parent.name for p in files} >= {"calls", "patches"}
    leaks |= {str(p.relative_to(probe.session())): _leaks(p.read_text(errors="replace")) for p in files}
    leaks["gitorch's output"] = _leaks(done.stdout + done.stderr)
    assert {where: found for where, found in leaks.items() if found} == {}
    assert probe.run_commits() == []
