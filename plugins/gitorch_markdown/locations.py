"""File and line references inside one piece of report text.

Recognised: ``a.py:12``, ``a.py:12-20``, ``a.py:12,40``, ``a.py#L12``, ``a.py (lines 12-20)``,
``a.py líneas 12-20``, ``a.py, line 12``, and paths with spaces when quoted as code
(```/apps/My App/Main.swift:71```). A path needs a known source-file extension (or a well-known
extension-less name such as ``Dockerfile``) so that ``e.g.``, versions and ``obj.method`` are not
taken for files. A file length such as ``main.py (2015 lines)`` is not a line reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gitorch_markdown.document import Line

# fmt: off
_EXTENSIONS = [
    "py", "pyi", "pyx", "ipynb", "js", "jsx", "mjs", "cjs", "ts", "tsx", "vue", "svelte", "swift", "m",
    "mm", "h", "hpp", "hh", "c", "cc", "cpp", "cxx", "cs", "java", "kt", "kts", "scala", "groovy",
    "gradle", "go", "rs", "rb", "erb", "php", "phtml", "pl", "pm", "lua", "r", "dart", "ex", "exs", "erl",
    "hs", "ml", "fs", "fsx", "vb", "sol", "zig", "nim", "sh", "bash", "zsh", "fish", "ps1", "bat", "cmd",
    "xml", "xsd", "xsl", "html", "htm", "xhtml", "css", "scss", "sass", "less", "json", "jsonc", "yaml",
    "yml", "toml", "ini", "cfg", "conf", "env", "properties", "md", "rst", "txt", "sql", "proto",
    "graphql", "gql", "tf", "hcl", "jinja", "j2", "twig", "hbs", "mustache", "ejs", "haml", "tpl", "csv",
    "lock", "mk", "cmake", "dockerfile", "plist", "storyboard", "xib", "pbxproj", "cshtml", "razor", "asp",
    "aspx", "jsp", "clj", "cljs", "elm", "jl", "sv", "vhd", "v", "cu", "sqlite", "sqlite3", "db", "pem",
    "log",
]
_NAMES = r"Dockerfile|Makefile|Gemfile|Rakefile|Procfile|Jenkinsfile|Vagrantfile|Containerfile"
_EXT = r"(?:" + "|".join(sorted(_EXTENSIONS, key=len, reverse=True)) + r")"
_PATH = r"(?P<path>(?:\.{0,2}/)?(?:[\w@~+-][\w.@~+-]*/)*(?:[\w@+-][\w.@+-]*\." + _EXT + r"|" + _NAMES + r"))"
_LINE_WORD = (
    r"(?:lines?|l[ií]neas?|linhas?|lignes?|zeilen?|righe|riga|linii|linia|wiersz[ey]?|строк[аиеу]?|стр\.|"
    r"ln\.?|l\.)"
)
_ABOUT = r"(?:[~≈]\s*|ca\.\s*|approx\.?\s*)?"  # "(linha ~24)": an approximate line is still a line


def _nums(tag: str) -> str:
    return rf"(?P<line{tag}>\d{{1,6}})(?:\s*[-–]\s*L?(?P<end{tag}>\d{{1,6}}))?"


_REF = re.compile(
    r"(?<![\w./@-])" + _PATH + r"(?![\w/])"
    r"(?:(?::L?|#L)" + _nums("a")
    # "Foo.java (L45-L60)", "Foo.java L45": an L before the number names a line too
    + r"|[`'\"*]*\s*[(\[,]?\s*(?:" + _LINE_WORD + r"\s*:?\s*" + _ABOUT + r"|L(?=\d))" + _nums("b") + r")?",
    re.IGNORECASE,
)
# "db.py at line 12", "db.py en la línea 12"; "line 12 of db.py", "línea 12 de db.py"
_REF_AT = re.compile(
    r"(?<![\w./@-])" + _PATH + r"[`'\"*]*\s+(?:at|on|in|en(?: la)?|na|em|a la)\s+"
    + _LINE_WORD + r"\s*" + _nums("a"),
    re.IGNORECASE,
)
_REF_OF = re.compile(
    _LINE_WORD + r"\s*" + _nums("a") + r"\s+(?:of|in|en|de|del|do|da|in der|von)\s+[`'\"*]*"
    + _PATH + r"(?![\w/])",
    re.IGNORECASE,
)
# "admin.py 第 88 行", "views.py の 12行目", "login.ts 15번째 줄", "auth.py 40행"
# NOTE: "850行" alone is a length (850 lines); a line is "第 88 行", "12行目", "15번째 줄" or "40행".
_REF_CJK = re.compile(
    r"(?<![\w./@-])" + _PATH + r"[`'\"*]*\s*[(（]?\s*(?:の|的)?\s*"
    r"(?:第\s*" + _nums("a") + r"\s*行|" + _nums("b") + r"\s*(?:行目|번째\s*줄|행))",
    re.IGNORECASE,
)
# A line number with no file: "(linha 3033-3034)", "// Linhas 42, 47", "第 88 行", "12行目", "строка 40".
_BARE_LINE = re.compile(
    r"(?<![\w.])" + _LINE_WORD + r"\s*[:#]?\s*" + _ABOUT + _nums("a") + r"(?![\d.]\d)"
    r"|第\s*" + _nums("c") + r"\s*行|" + _nums("d") + r"\s*(?:行目|번째\s*줄|행)(?![\w])",
    re.IGNORECASE,
)
# Capitalised as products are: "Node.js", "Vue.js", "Three.js" (a file is "src/lib/chart.js").
_PRODUCT = re.compile(
    r"(?:Node|Vue|Next|Nuxt|React|Express|Chart|Three|D3|Ember|Backbone|Angular|Socket\.IO|Moment|Day|Alpine|"
    r"Solid|Preact|Lodash|jQuery|P5|Pixi|Babylon|Video|Highlight|Marked|Nest|Knockout|Meteor|Electron)\.js"
)
_CODE_PATH = re.compile(r"^\s*(?P<path>[^\s`:][^`:]*?\.(?:" + _EXT + r")):" + _nums("a"), re.IGNORECASE)
_URL = re.compile(r"https?://\S+")
_HINT = re.compile(r"[\w@+-]\.[A-Za-z]|" + _NAMES)
# Any extension will do when a line number follows ("schema.prisma:416"), unless it is a host name.
_ANY_EXT_LINE = re.compile(
    r"(?<![\w./@-])(?P<path>(?:\.{0,2}/)?(?:[\w@~+-][\w.@~+-]*/)*[\w@+-][\w.@+-]*\.(?P<ext>[A-Za-z][A-Za-z0-9]{1,9}))"
    r":(?P<line>\d{1,6})(?:\s*[-–]\s*(?P<end>\d{1,6}))?(?![\d.])"
)
_HOST_SUFFIXES = {
    "com", "org", "net", "io", "dev", "app", "co", "ai", "cloud", "local", "internal", "lan", "host",
    "cl", "es", "br", "ar", "mx", "uk", "de", "fr", "it", "nl", "eu", "us", "info", "biz", "me", "xyz",
}
# fmt: on


@dataclass(frozen=True)
class Ref:
    path: str
    line: int | None = None
    end_line: int | None = None

    @property
    def key(self) -> tuple[str, int | None]:
        return self.path.rsplit("/", 1)[-1].lower(), self.line


def _clean(path: str) -> str:
    path = path.strip().strip("`'\"")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def _ref(path: str, line: str | None, end: str | None) -> Ref:
    start = int(line) if line else None
    stop = int(end) if end else None
    if stop is not None and start is not None and stop < start:
        stop = None
    return Ref(_clean(path), start, stop)


def line_refs(line: Line) -> list[Ref]:
    """``find_refs`` of a document line, computed once per line (several rules ask for them)."""
    refs = getattr(line, "_refs", None)
    if refs is None:
        refs = find_refs(line.text, line.codes)
        line._refs = refs  # type: ignore[attr-defined]
    return refs


def find_refs(text: str, codes: list[str] | tuple[str, ...] = ()) -> list[Ref]:
    """Every file reference in ``text``; ``codes`` are its inline code spans (paths may hold spaces)."""
    if not codes and not _HINT.search(text):
        return []  # no dotted name, no Dockerfile: the costly patterns below cannot match
    out: list[Ref] = []
    for code in codes:
        if " " in code.strip() and (m := _CODE_PATH.match(code)):
            out.append(_ref(m.group("path"), m.group("linea"), m.group("enda")))
    seen = {r.key for r in out}
    text = _URL.sub(" ", text)
    found: list[tuple[int, Ref]] = []
    for m in _REF.finditer(text):
        ref = _ref(m.group("path"), m.group("linea") or m.group("lineb"), m.group("enda") or m.group("endb"))
        found.append((m.start(), ref))
    for rx in (_REF_AT, _REF_OF, _REF_CJK):
        for m in rx.finditer(text):
            groups = m.groupdict()
            line, end = groups.get("linea") or groups.get("lineb"), groups.get("enda") or groups.get("endb")
            found.append((m.start() - 1, _ref(m.group("path"), line, end)))
    for m in _ANY_EXT_LINE.finditer(text):
        if m.group("ext").lower() not in _HOST_SUFFIXES:
            found.append((m.start(), _ref(m.group("path"), m.group("line"), m.group("end"))))
    with_line = {r.key[0] for _, r in found if r.line is not None} | {
        r.key[0] for r in out if r.line is not None
    }
    for _, ref in sorted(found, key=lambda pair: pair[0]):
        if ref.line is None and _PRODUCT.fullmatch(ref.path.rsplit("/", 1)[-1]):
            continue  # "Node.js", "Vue.js": a product, not a file
        if ref.key in seen or (ref.line is None and ref.key[0] in with_line):
            continue  # "db.py at line 12" also matches "db.py" alone
        seen.add(ref.key)
        out.append(ref)
    return out


_BLOB_URL = re.compile(
    r"^https?://[^/]+/(?:[^/]+/)+?(?:-/)?blob/[^/]+/(?P<path>[^#?]+)(?:#L(?P<line>\d+)(?:-L?(?P<end>\d+))?)?$"
)
_LOCAL_TARGET = re.compile(
    r"^(?:file://)?(?:/?[A-Za-z]:[/\\])?(?P<path>[^#?:]+?)"
    r"(?::(?P<line>\d{1,6})(?:[-:](?P<end>\d{1,6}))?|#L(?P<line2>\d{1,6})(?:-L?(?P<end2>\d{1,6}))?)$"
)
# Cursor cites code as a fence whose info string is "start:end:path" ("```263:276:src/hooks/useNotes.ts").
_FENCE_CITATION = re.compile(r"^(?P<line>\d{1,6}):(?P<end>\d{1,6}):(?P<path>\S+)$")


def link_ref(href: str) -> Ref | None:
    """The file and line a link points at: ``C:/repo/src/a.ts:24``, ``src/a.py#L12``, a GitHub blob URL."""
    href = href.strip().replace("\\", "/")
    m = _BLOB_URL.match(href)
    if m:
        return _ref(m.group("path"), m.group("line"), m.group("end")) if m.group("line") else None
    if re.match(r"^[a-z][a-z0-9+.-]*://", href) and not href.startswith("file://"):
        return None
    m = _LOCAL_TARGET.match(href)
    if not m:
        return None
    line, end = m.group("line") or m.group("line2"), m.group("end") or m.group("end2")
    path = m.group("path")
    if not re.search(r"\.[A-Za-z][A-Za-z0-9]{0,9}$|(?:^|/)(?:" + _NAMES + r")$", path):
        return None
    return _ref(path, line, end)


def fence_ref(info: str) -> str | None:
    """A code fence's citation as ``path:start-end`` text, or None."""
    m = _FENCE_CITATION.match(info.strip())
    return f"{m.group('path')}:{m.group('line')}-{m.group('end')}" if m else None


def bare_lines(text: str) -> list[tuple[int, int | None]]:
    """Line numbers written without a file (``linha ~24``, ``Lines 42, 47``, ``第 88 行``): (start, end)."""
    out = []
    for m in _BARE_LINE.finditer(text):
        start = m.group("linea") or m.group("linec") or m.group("lined")
        end = m.group("enda") or m.group("endc") or m.group("endd")
        first, last = int(start), int(end) if end else None
        out.append((first, last if last is not None and last > first else None))
    return out
