"""Masking secrets before anything reaches an agent, a prompt or the disk.

A :class:`Redactor` finds secrets four ways:

- **by value**: environment variables whose name says secret (``*KEY*``, ``*TOKEN*``, ``*SECRET*`` …),
  the repository's ``.env`` files (read with python-dotenv, as the applications read them), and the
  secrets found in the repository's own files when the redactor was built (:meth:`Redactor.learn_files`):
  once known, a value is masked wherever it shows up (a test's output, an analyzer's message, a diff),
  whole or cut to a prefix or suffix (pytest shortens long strings in its assertion messages);
- **by format**, with detect-secrets' detectors (AWS, GitHub, GitLab, Slack, Stripe, JWT, Basic Auth in
  URLs, npm, PyPI, SendGrid, Twilio, Discord, Telegram, Mailchimp, Azure, Artifactory …);
- **by assignment**, with detect-secrets' keyword detector (``password = "…"``, ``api_key: …``,
  ``DB_PASS=…``, ``secret == "…"``), whatever the value looks like;
- by gitorch's own patterns for what detect-secrets does not cover (:data:`OWN_PATTERNS`): keys of
  newer formats (OpenAI ``sk-proj-``, Anthropic ``sk-ant-``, Google ``AIza``, Hugging Face ``hf_``),
  known token formats **cut short** (detect-secrets needs a whole token), ``Bearer`` tokens, private key
  blocks whole (detect-secrets flags only their first line) and lines of a key body seen without their
  header, and assignments to names detect-secrets' keywords leave out (``*token*``, ``*credential*``,
  ``*passphrase*``, ``*auth*`` …).

Known values become ``«redacted:NAME»`` (the variable's name), the others ``«redacted:KIND»``.
Files such as ``.env`` or ``id_rsa`` are never put into a prompt: see :meth:`Redactor.is_secret_file`.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath

from dotenv import dotenv_values

MIN_SECRET_LENGTH = 8
MARK = "«redacted:{}»"

# Substrings of a variable name that make its value a secret.
_NAME_SUBSTRINGS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "CREDENTIAL", "PRIVATE")
# Whole name segments (split on _ - .) that do too: too short or too common to match as substrings.
_NAME_SEGMENTS = frozenset({"AUTH", "PAT", "PASS", "PWD", "DSN", "COOKIE", "APIKEY", "SIGNATURE"})
# Names that match the rules above but never hold a secret.
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK", "GPG_AGENT_INFO", "KEYTIMEOUT"})
# Values never worth masking even under a secret name.
_HARMLESS_VALUES = frozenset(
    {"true", "false", "none", "null", "changeme", "undefined", "disabled", "enabled"}
)

# .env files whose values are placeholders meant to be shared.
_EXAMPLE_SUFFIXES = (".example", ".sample", ".template", ".dist", ".defaults", ".tpl")
_SKIP_DIRS = frozenset(  # vendored code and virtualenvs (".env" as a directory is a virtualenv)
    {".git", "node_modules", ".venv", "venv", ".env", "__pycache__", ".tox", ".nox", ".mypy_cache",
     ".ruff_cache", ".pytest_cache", "build", "dist", "site-packages", ".idea", ".cache"}
)  # fmt: skip
_MAX_DEPTH = 6

SECRET_FILE_GLOBS: tuple[str, ...] = (
    ".env", ".env.*", "*.env", ".envrc",
    "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.gpg",
    "id_rsa", "id_rsa.*", "id_dsa", "id_dsa.*", "id_ecdsa", "id_ecdsa.*", "id_ed25519", "id_ed25519.*",
    ".netrc", "_netrc", ".pgpass", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd", ".dockercfg",
    "credentials", "credentials.json", "credentials.*", "secrets.*", "secret.*", "*.secret", "*.secrets",
    "service-account*.json", "client_secret*.json", "*.tfstate", "*.tfstate.*", "*.tfvars",
)  # fmt: skip
_SECRET_PARENTS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube"})


@dataclass(frozen=True)
class Pattern:
    """A credential format. ``group`` is the part to mask (0 = the whole match)."""

    kind: str
    regex: re.Pattern[str]
    group: int = 0


def _p(kind: str, regex: str, group: int = 0, flags: int = 0) -> Pattern:
    return Pattern(kind, re.compile(regex, flags), group)


# NOTE: only what detect-secrets does not cover (its detectors need whole tokens of the older formats, flag
# a private key by its first line only, and know no Google, Anthropic, Hugging Face or Bearer token).
OWN_PATTERNS: tuple[Pattern, ...] = (
    _p(
        "private-key",
        r"-----BEGIN[A-Z ]* PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END[A-Z ]* PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    _p("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{8,}"),
    _p("openai-key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{16,}"),
    _p("google-api-key", r"\bAIza[0-9A-Za-z_\-]{12,}"),
    _p("huggingface-token", r"\bhf_[A-Za-z0-9]{12,}"),
    # known formats cut short (a test's output, a log line cut at a width): the prefix says what it is
    _p("github-token", r"\b(?:gh[pousr]_[A-Za-z0-9_]{8,}|github_pat_[A-Za-z0-9_]{8,})"),
    _p("gitlab-token", r"\bgl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|oas)-[A-Za-z0-9_\-]{8,}"),
    _p("slack-token", r"\bxox[abposre]-[A-Za-z0-9\-]{8,}"),
    _p("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}"),
    _p("aws-access-key", r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{8,}"),
    _p("npm-token", r"\bnpm_[A-Za-z0-9]{12,}"),
    _p("pypi-token", r"\bpypi-AgE[A-Za-z0-9_\-]{12,}"),
    _p("bearer-token", r"\b[Bb]earer\s+([A-Za-z0-9._~+/=\-]{16,})", 1),
)  # fmt: skip

# Assignments to secret-looking names that detect-secrets' keyword list leaves out: the value is masked,
# quoted (spaces allowed) or not (up to a space, quote, comma or bracket).
_ASSIGNED = re.compile(
    r"""(?ix)(?<![A-Za-z])[\w.\-]*?(?:tokens?|credentials?|passphrase|(?<![a-z])auth|access[_-]?key|
        secret[_-]?key|apikey|session[_-]?key|signing[_-]?key|private[_-]?key|cookie|dsn)
        (?:[_.\-](?:id|value|str|string|header|b64|hex|raw))?["'\]]{0,2}
        \s*(?::=|==|=>|=|:)\s*
        (?:(?P<q>["'`])(?P<quoted>[^"'`\n]{4,}?)(?P=q)|(?P<bare>[^\s"'`,;)\]}\\]{4,}))"""
)
_NUMBER = re.compile(r"^[\d.,]+[kKmMbB]?$")  # max_tokens: "4096", Tokens: 1.2k — counts, not tokens
_CODE_LIKE = re.compile(
    r"^(?:[A-Za-z_]\w*\.)+[A-Za-z_]\w*$|[(\[{]|^\d+(?:\.\d+)?$|^(?:none|null|true|false)$", re.I
)
# A line worth the keyword regexes: a secret-looking word, then within a few characters an assignment.
_KEYWORDS = re.compile(
    r"(?:pass|pwd|secret|key|token|credential|auth|contrase|cookie|dsn)[\w\]'\"`.\-]{0,40}\s*(?:=|:)", re.I
)
# A line that is nothing but a long base64 run: the body of a key or certificate seen without its header.
_BLOB_LINE = re.compile(r"^\s*[\"']?([A-Za-z0-9+/]{40,}={0,2})[\"',]?\s*$", re.M)
_BLOB_ENTROPY = 4.5  # above any hex digest (4.0 at most), below random base64 of that length

def is_secret_name(name: str) -> bool:
    """Whether an environment variable called ``name`` holds a secret (``OPENAI_API_KEY``: yes)."""
    upper = name.upper()
    if upper in _NOT_SECRET_NAMES:
        return False
    if any(part in upper for part in _NAME_SUBSTRINGS):
        return True
    return any(seg in _NAME_SEGMENTS for seg in re.split(r"[_\-.]", upper))


def looks_random(value: str) -> bool:
    """A long token with no spaces and high character entropy (a key, not a word or a path)."""
    if len(value) < 16 or any(c.isspace() for c in value) or value.startswith(("/", "./", "http")):
        return False
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    return entropy >= 3.5


def _worth_masking(value: str) -> bool:
    value = value.strip()
    return len(value) >= MIN_SECRET_LENGTH and value.lower() not in _HARMLESS_VALUES


def is_example_env(name: str) -> bool:
    """``.env.example`` and friends hold placeholders meant to be shared, not secrets."""
    return name.lower().endswith(_EXAMPLE_SUFFIXES)


def is_secret_file(path: str | PurePath) -> bool:
    """Whether a file's contents must never go into a prompt (``.env``, keys, credential stores)."""
    pure = PurePath(path)
    name = pure.name.lower()
    if not name:
        return False
    if name.startswith(".env") and is_example_env(name):
        return False
    if any(fnmatch.fnmatchcase(name, glob) for glob in SECRET_FILE_GLOBS):
        return True
    return any(part.lower() in _SECRET_PARENTS for part in pure.parts[:-1])


def _main_checkout(root: Path) -> list[Path]:
    """The user's checkout when ``root`` is a fix run's workspace (its git directory names it:
    ``gitorch.checkout``), or the main working tree when it is a linked worktree (``git worktree add``).

    ``.env`` files are untracked and ignored, so a fresh worktree (where the fix loop works) has none:
    their values must still be masked, so they are read from the user's checkout.
    """
    if not (root / ".git").is_file():  # a workspace or a linked worktree has a .git *file*
        return []
    from gitorch.vcs.git import Git, GitError

    try:
        named = Git(root).call("config", "--get", "gitorch.checkout", timeout=30)
        if named.ok and named.stdout.strip():
            checkout = Path(named.stdout.strip())
            return [checkout] if checkout.is_dir() and checkout.resolve() != root.resolve() else []
        done = Git(root).call("rev-parse", "--path-format=absolute", "--git-common-dir", timeout=30)
    except GitError:  # git could not be run
        return []
    common = Path(done.stdout.strip()) if done.ok and done.stdout.strip() else None
    if common is None or common.name != ".git":
        return []
    main = common.parent
    return [main] if main.is_dir() and main.resolve() != root.resolve() else []


def find_env_files(root: Path) -> list[Path]:
    """``.env`` and ``.env.*`` files under ``root`` (not examples), skipping vendored directories."""
    found: list[Path] = []
    root = Path(root)
    base_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root):
        depth = len(Path(dirpath).parts) - base_depth
        dirnames[:] = [] if depth >= _MAX_DEPTH else sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            lower = name.lower()
            if (
                lower == ".env" or lower.startswith(".env.") or lower.endswith(".env")
            ) and not is_example_env(lower):
                found.append(Path(dirpath) / name)
    return found


LEARN_MAX_FILES = 5000
_LEARN_MAX_BYTES = 512_000
_LEARN_SUFFIXES = frozenset(
    {".py", ".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs", ".rb", ".go", ".java", ".kt", ".php", ".cs", ".rs",
     ".sh", ".bash", ".zsh", ".yml", ".yaml", ".toml", ".ini", ".cfg", ".conf", ".json", ".xml",
     ".properties",
     ".tf", ".tfvars", ".sql", ".html", ".md", ".txt", ".env", ".dist", ".swift", ".scala", ".pl", ".lua"}
)  # fmt: skip



class Redactor:
    """Masks known secret values and credential-looking strings in any text.

    Build one with :meth:`for_repository`; ``Redactor()`` alone masks by format and assignment only.
    """

    def __init__(self, secrets: Mapping[str, str] | Iterable[tuple[str, str]] = (), *, patterns: bool = True):
        self._values: dict[str, str] = {}
        self._regex: re.Pattern[str] | None = None
        self.patterns = OWN_PATTERNS if patterns else ()
        self.detect = patterns  # detect-secrets' detectors and keywords
        self.sources: list[str] = []
        items = secrets.items() if isinstance(secrets, Mapping) else secrets
        for name, value in items:
            self.add(name, value)

    @classmethod
    def for_repository(cls, root: Path | None, env: Mapping[str, str] | None = None) -> Redactor:
        """Secrets from ``env`` (default ``os.environ``), from ``root``'s ``.env*`` files, and those found in
        ``root``'s other files (:meth:`learn_files`)."""
        env = os.environ if env is None else env
        red = cls()
        for name, value in env.items():
            if is_secret_name(name):
                red.add(name, value)
        if root is not None and Path(root).is_dir():
            for base in [Path(root), *_main_checkout(Path(root))]:
                for path in find_env_files(base):
                    red.add_env_file(path)
            red.learn_files(Path(root))
        return red

    @property
    def names(self) -> list[str]:
        """The names of the secrets known by value (never the values)."""
        return sorted(set(self._values.values()))

    def add(self, name: str, value: str | None) -> None:
        """Mask ``value`` as ``«redacted:name»`` from now on (ignored when too short or harmless)."""
        if value is None or not _worth_masking(value):
            return
        value = value.strip()
        forms = {value, json.dumps(value)[1:-1]}  # also as it appears inside JSON output
        for line in value.splitlines():  # multi-line values (keys) line by line too
            if _worth_masking(line):
                forms.add(line.strip())
        for form in forms:
            self._values.setdefault(form, name)
        self._regex = None

    def add_env_file(self, path: Path) -> None:
        """Secret-named and random-looking values of a ``.env`` file."""
        try:
            values = dotenv_values(path, interpolate=False)
        except (OSError, UnicodeDecodeError, ValueError):
            return
        self.sources.append(str(path))
        for key, value in values.items():
            if value is not None and (is_secret_name(key) or looks_random(value)):
                self.add(key, value)

    def learn_files(self, root: Path, *, max_files: int = LEARN_MAX_FILES) -> int:
        """Find the secrets written in ``root``'s text files (by format and by assignment) and mask their
        values from now on wherever they appear, even without the name they were assigned to (a test's
        output shows ``'hunter2' != 'x'``, an analyzer quotes the value). Returns how many were found.
        Secret files (``.env``, keys) are read by :meth:`add_env_file` or not at all."""
        found = 0
        for path in _text_files(root, max_files):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            name = f"secret in {path.relative_to(root).as_posix()}"
            for value in self.find(text):
                if value not in self._values and _worth_masking(value):
                    self.add(name, value)
                    found += 1
        return found

    def find(self, text: str) -> list[str]:
        """The secret values ``text`` holds, by format and by assignment (not those known by value)."""
        return [text[start:end] for start, end, _ in self._spans(text)]

    def _known(self) -> re.Pattern[str] | None:
        if not self._values:
            return None
        if self._regex is None:
            ordered = sorted(self._values, key=len, reverse=True)  # longest first: overlapping values
            self._regex = re.compile("|".join(_cut_forms(v) for v in ordered))
        return self._regex

    def mask(self, text: str) -> str:
        """``text`` with every known secret and credential-looking string replaced by a marker."""
        if not text:
            return text
        known = self._known()
        if known is not None:
            text = known.sub(lambda m: MARK.format(self._name_of(m.group(0))), text)
        spans = self._spans(text)
        if not spans:
            return text
        out, last = [], 0
        for start, end, kind in spans:
            out.append(text[last:start])
            out.append(MARK.format(kind))
            last = end
        out.append(text[last:])
        return "".join(out)

    def mask_data(self, data):
        """``data`` (JSON-like: dicts, lists, strings) with every string masked."""
        if isinstance(data, str):
            return self.mask(data)
        if isinstance(data, dict):
            return {key: self.mask_data(value) for key, value in data.items()}
        if isinstance(data, list | tuple):
            return [self.mask_data(value) for value in data]
        return data

    def is_secret_file(self, path: str | PurePath) -> bool:
        """See :func:`is_secret_file`."""
        return is_secret_file(path)

    def _name_of(self, matched: str) -> str:
        if matched in self._values:
            return self._values[matched]
        # a cut form: the value it starts or ends
        for value, name in self._values.items():
            if value.startswith(matched) or value.endswith(matched):
                return name
        return "secret"

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, kind) of what to mask, in order."""
        found: list[tuple[int, int, str]] = []
        for pattern in self.patterns:
            for m in pattern.regex.finditer(text):
                found.append((*m.span(pattern.group), pattern.kind))
        if self.detect:
            found += _detected(text)
            found += _assigned(text)
            found += _blobs(text)
        found = [(a, b, k) for a, b, k in found if b > a and "«redacted:" not in text[a:b]]
        found.sort(key=lambda span: (span[0], -span[1]))
        merged: list[tuple[int, int, str]] = []
        for start, end, kind in found:
            if merged and start < merged[-1][1]:
                if end > merged[-1][1]:
                    merged[-1] = (merged[-1][0], end, merged[-1][2])
                continue
            merged.append((start, end, kind))
        return merged


class LazyRedactor:
    """A :class:`Redactor` built on first use: :meth:`Redactor.for_repository` reads every text file of
    the repository (and imports detect-secrets), which an audit by analyzers alone never needs.

    NOTE: issue 14 — building it took most of a small repository's audit; an AI agent's first prompt,
    call or recording builds it, exactly as before. Thread-safe (dimensions are audited concurrently).
    """

    def __init__(self, build: Callable[[], Redactor]) -> None:
        self._build = build
        self._real: Redactor | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._real is not None

    def _redactor(self) -> Redactor:
        with self._lock:
            if self._real is None:
                self._real = self._build()
            return self._real

    def __getattr__(self, name: str):  # noqa: ANN204 - whatever the Redactor's attribute is
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._redactor(), name)


def _text_files(root: Path, max_files: int) -> Iterable[Path]:
    """The repository's source and configuration files (vendored and virtualenv directories skipped)."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".git"))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() not in _LEARN_SUFFIXES or is_secret_file(path) or path.is_symlink():
                continue
            try:
                if path.stat().st_size > _LEARN_MAX_BYTES:
                    continue
            except OSError:
                continue
            count += 1
            if count > max_files:
                return
            yield path


def _cut_forms(value: str) -> str:
    """A regex for ``value``, or for a prefix or a suffix of it long enough to be no coincidence, where it
    was visibly cut: a prefix followed by an ellipsis, a quote or the end of a line, a suffix after one
    (pytest shortens long strings with ``...``; logs and output tails cut lines)."""
    whole = re.escape(value)
    if len(value) < CUT_MIN_LENGTH or "\n" in value or len(value) > CUT_MAX_LENGTH:
        return whole
    keep = max(CUT_MIN_LENGTH // 2, len(value) // 3)
    head, rest = value[:keep], value[keep:]
    prefix = re.escape(head) + "".join(f"(?:{re.escape(c)}" for c in rest) + ")?" * len(rest)
    lead, tail = value[: len(value) - keep], value[len(value) - keep :]
    suffix = ""
    for c in lead:
        suffix = f"(?:{suffix}{re.escape(c)})?"
    return f"{whole}|{prefix}(?={_CUT_AFTER})|{_CUT_BEFORE}{suffix}{re.escape(tail)}"


# Where a cut value ends (an ellipsis, a quote, the end of a line) and where a value cut at its start begins.
_CUT_AFTER = r"\.\.\.|…|[\"'`]|[ \t]*(?:\n|\Z)"
_CUT_BEFORE = r"(?:(?<=\.\.\.)|(?<=…)|(?<=[\"'`\n])|(?<![\s\S]))"
CUT_MIN_LENGTH = 16  # values at least this long are also masked when cut to a third of their length
CUT_MAX_LENGTH = 90  # (a regex of nested groups per character: keep it small)


# detect-secrets ------------------------------------------------------------------------------------


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")


@lru_cache(maxsize=1)
def _detectors() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Every regex of detect-secrets' format detectors, with the kind of secret it finds."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    found = []
    for secret_type, plugin in get_mapping_from_secret_type_to_class().items():
        if not issubclass(plugin, RegexBasedDetector) or plugin.__name__ == "IPPublicDetector":
            continue  # an IP address is no secret
        for regex in plugin().denylist:
            found.append((_slug(secret_type), regex))
    return tuple(found)


_DELIMITERS = " \t\r\n=:\"'"


def _detected(text: str) -> list[tuple[int, int, str]]:
    """Spans of what detect-secrets' format detectors find: the longest captured group of 8 characters or
    more (the password of ``scheme://user:password@``, the key after ``aws_secret_access_key =``), else the
    whole match without the delimiters some of its regexes include."""
    spans = []
    for kind, regex in _detectors():
        for m in regex.finditer(text):
            groups = [i for i in range(1, (regex.groups or 0) + 1) if m.group(i) and len(m.group(i)) >= 8]
            if groups:
                start, end = m.span(max(groups, key=lambda i: len(m.group(i))))
            else:
                start, end = m.span()
                while start < end and text[start] in _DELIMITERS:
                    start += 1
                while end > start and text[end - 1] in _DELIMITERS:
                    end -= 1
            spans.append((start, end, kind))
    return spans


def _assigned(text: str) -> list[tuple[int, int, str]]:
    """Spans of values assigned to secret-looking names: detect-secrets' keyword detector, line by line
    (its quoted forms, and its configuration-file forms whose value needs no quotes), then gitorch's
    :data:`_ASSIGNED` for the names it leaves out."""
    from detect_secrets.filters.heuristic import is_indirect_reference, is_templated_secret
    from detect_secrets.plugins.keyword import (
        CONFIG_DENYLIST_REGEX_TO_GROUP,
        QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
    )

    spans = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if _KEYWORDS.search(line):
            indirect = is_indirect_reference(line)
            for table, quoted in ((QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP, True),
                                  (CONFIG_DENYLIST_REGEX_TO_GROUP, False)):
                for regex, group in table.items():
                    for m in regex.finditer(line):
                        start, end = m.span(group)
                        value = line[start:end].rstrip("\\")
                        if indirect and not quoted:
                            continue
                        if _plausible(value, quoted) and not is_templated_secret(value):
                            spans.append((offset + start, offset + start + len(value), "secret-keyword"))
            for m in _ASSIGNED.finditer(line):
                group = "quoted" if m.group("quoted") is not None else "bare"
                value = m.group(group)
                if _NUMBER.match(value):
                    continue
                if _plausible(value, group == "quoted") and not is_templated_secret(value):
                    start = m.start(group)
                    spans.append((offset + start, offset + start + len(value), "assigned-secret"))
        offset += len(line)
    return spans


def _plausible(value: str, quoted: bool) -> bool:
    """A value worth masking: not a placeholder, not a marker, and, unquoted, not code (a call, an
    attribute, a number, None)."""
    value = value.strip()
    if len(value) < 4 or "«redacted:" in value or value.lower() in _HARMLESS_VALUES:
        return False
    if value.startswith(("$", "%", "<", "{", "«")):
        return False
    return quoted or not _CODE_LIKE.search(value)


def _blobs(text: str) -> list[tuple[int, int, str]]:
    """Lines that are only a long, high-entropy base64 run (a key body without its header)."""
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    entropy = Base64HighEntropyString().calculate_shannon_entropy
    spans = []
    for m in _BLOB_LINE.finditer(text):
        blob = m.group(1)
        if any(c.isdigit() for c in blob) and not blob.isupper() and not blob.islower() and (
            entropy(blob) >= _BLOB_ENTROPY
        ):
            spans.append((*m.span(1), "key-material"))
    return spans
