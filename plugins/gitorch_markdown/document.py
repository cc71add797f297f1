"""The Markdown token stream (markdown-it-py) folded into a tree of sections and blocks.

A report becomes a root :class:`Section` (the text before the first heading) whose children are
the headings, nested by level. Each section holds its own blocks (paragraphs, lists, tables, code)
up to its first sub-heading. Inline content keeps two renderings per line: ``text`` (markup
stripped, what a reader sees) and ``raw`` (bold/italic/code markers kept, so ``**Severity:** High``
can be read as a field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

BlockKind = Literal["para", "list", "table", "code"]


@dataclass
class Line:
    """One line of inline content."""

    text: str
    raw: str
    codes: list[str] = field(default_factory=list)


@dataclass
class ListItem:
    lines: list[Line]
    blocks: list[Block]

    def all_lines(self) -> list[Line]:
        out = list(self.lines)
        for block in self.blocks:
            out.extend(block.all_lines())
        return out


@dataclass
class Block:
    kind: BlockKind
    line: int
    lines: list[Line] = field(default_factory=list)
    items: list[ListItem] = field(default_factory=list)
    header: list[Line] = field(default_factory=list)
    rows: list[list[Line]] = field(default_factory=list)
    code: str = ""
    info: str = ""

    def all_lines(self) -> list[Line]:
        """Every inline line in the block (list items and table cells included), not code."""
        if self.kind == "para":
            return list(self.lines)
        if self.kind == "list":
            return [line for item in self.items for line in item.all_lines()]
        if self.kind == "table":
            return list(self.header) + [cell for row in self.rows for cell in row]
        return []

    def codes(self) -> list[str]:
        if self.kind == "code":
            from gitorch_markdown.locations import fence_ref

            citation = fence_ref(self.info)
            return [citation, self.code] if citation else [self.code]
        if self.kind == "list":
            return [code for item in self.items for block in item.blocks for code in block.codes()]
        return []


@dataclass
class Section:
    level: int
    title: Line
    line: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    parent: Section | None = field(default=None, repr=False)
    promoted: bool = False  # a bold lead-in paragraph read as a sub-heading

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def subtree_blocks(self) -> list[Block]:
        out = list(self.blocks)
        for child in self.children:
            out.append(Block("para", child.line, lines=[child.title]))
            out.extend(child.subtree_blocks())
        return out


# NOTE: Chinese and Japanese reports write fields and tags with full-width punctuation
# ("**位置**：a.py:3", "【高危】", "（第 40 行）"); read as ASCII, every field and tag rule applies.
_WIDE = str.maketrans({"：": ": ", "（": " (", "）": ") ", "【": "[", "】": "] "})


def _inline(token: Any) -> list[Line]:
    """Split an inline token into lines, rendering children as plain text and as raw-ish markdown."""
    lines: list[Line] = []
    text: list[str] = []
    raw: list[str] = []
    codes: list[str] = []
    underscores: list[bool] = []

    def flush() -> None:
        plain = "".join(text).translate(_WIDE).strip()
        marked = "".join(raw).translate(_WIDE).strip()
        # one string object when both renderings agree (most lines): large reports stay smaller
        lines.append(Line(plain, plain if marked == plain else marked, list(codes) if codes else []))
        text.clear()
        raw.clear()
        codes.clear()

    link: list[Any] = []  # the open link's target and where its text starts
    for child in token.children or []:
        kind = child.type
        if kind == "link_open":
            link[:] = [child.attrs.get("href", ""), len(text), len(raw)]
        elif kind == "link_close" and link:
            _cite_link_target(str(link[0]), text, raw, int(link[1]), int(link[2]))
            link.clear()
        elif kind == "text":
            text.append(child.content)
            raw.append(child.content)
        elif kind == "code_inline":
            text.append(child.content)
            raw.append(f"`{child.content}`")
            codes.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            flush()
        elif kind in ("strong_open", "em_open") and "_" in child.markup:
            # `app/__init__.py` parses as app/<strong>init</strong>.py: underscores that open right
            # after a word or path character are part of a name, not emphasis.
            before = "".join(text)
            literal = bool(before) and not before[-1].isspace()
            underscores.append(literal)
            raw.append(child.markup)
            if literal:
                text.append(child.markup)
        elif kind in ("strong_close", "em_close") and "_" in child.markup:
            raw.append(child.markup)
            if underscores and underscores.pop():
                text.append(child.markup)
        elif kind in ("strong_open", "strong_close", "em_open", "em_close", "s_open", "s_close"):
            raw.append(child.markup)
        elif kind == "image":
            text.append(child.content)
            raw.append(child.content)
        elif kind == "html_inline":
            continue
    flush()
    return [line for line in lines if line.text or line.raw]


def _cite_link_target(href: str, text: list[str], raw: list[str], text_at: int, raw_at: int) -> None:
    """A link whose target is a file and line (``[page.tsx](C:/repo/src/app/page.tsx:170)``) reads as
    ``page.tsx:170`` when its text names the file, else as ``text (path:line)``."""
    from gitorch_markdown.locations import link_ref

    ref = link_ref(href)
    if ref is None or ref.line is None:
        return
    shown = "".join(text[text_at:]).strip().strip("`")
    lines = f"{ref.line}" + (f"-{ref.end_line}" if ref.end_line else "")
    if shown and (ref.path == shown or ref.path.endswith("/" + shown.lstrip("./"))):
        suffix = f":{lines}"
    else:
        suffix = f" ({ref.path}:{lines})"
    text.append(suffix)
    raw.append(suffix)


class _Reader:
    def __init__(self, tokens: list[Any], offset: int = 0) -> None:
        self.tokens = tokens
        self.offset = offset  # the chunk's first line in the whole text
        self.i = 0

    def blocks_until(self, close_type: str | None) -> list[Block]:
        """Read blocks until the token closing the current container (``None``: end of stream)."""
        out: list[Block] = []
        tokens = self.tokens
        while self.i < len(tokens):
            tok = tokens[self.i]
            if close_type is not None and tok.type == close_type:
                self.i += 1
                return out
            block = self.block()
            if block is not None:
                out.append(block)
        return out

    def block(self) -> Block | None:
        tok = self.tokens[self.i]
        line = (tok.map[0] + 1 + self.offset) if tok.map else 0
        kind = tok.type
        if kind in ("paragraph_open", "heading_open"):
            inline = self.tokens[self.i + 1]
            self.i += 3
            return Block("para", line, lines=_inline(inline))
        if kind in ("fence", "code_block"):
            self.i += 1
            return Block("code", line, code=tok.content, info=tok.info.strip())
        if kind in ("bullet_list_open", "ordered_list_open"):
            close = kind.replace("_open", "_close")
            self.i += 1
            items: list[ListItem] = []
            while self.tokens[self.i].type != close:
                self.i += 1  # list_item_open
                inner = self.blocks_until("list_item_close")
                first: list[Line] = []
                rest = inner
                if inner and inner[0].kind == "para":
                    first, rest = inner[0].lines, inner[1:]
                items.append(ListItem(first, rest))
            self.i += 1
            return Block("list", line, items=items)
        if kind == "blockquote_open":
            self.i += 1
            inner = self.blocks_until("blockquote_close")
            lines = [ln for block in inner for ln in block.all_lines()]
            return Block("para", line, lines=lines)
        if kind == "table_open":
            return self.table(line)
        self.i += 1  # hr, html_block, stray closers
        return None

    def table(self, line: int) -> Block:
        header: list[Line] = []
        rows: list[list[Line]] = []
        row: list[Line] | None = None
        in_head = False
        self.i += 1
        while self.tokens[self.i].type != "table_close":
            tok = self.tokens[self.i]
            if tok.type == "thead_open":
                in_head = True
            elif tok.type == "thead_close":
                in_head = False
            elif tok.type == "tr_open":
                row = []
            elif tok.type == "tr_close" and row is not None:
                if in_head:
                    header = row
                else:
                    rows.append(row)
                row = None
            elif tok.type == "inline" and row is not None:
                cell = _inline(tok)
                row.append(
                    Line(
                        " ".join(c.text for c in cell),
                        " ".join(c.raw for c in cell),
                        [x for c in cell for x in c.codes],
                    )
                    if cell
                    else Line("", "")
                )
            self.i += 1
        self.i += 1
        return Block("table", line, header=header, rows=rows)


# "**1. Hardcoded key** (Critical)", "**[HIGH] SQL injection**": a bold line used as a heading.
_BOLD_TITLE = re.compile(
    r"^(?:\*\*|__)\s*(?:\d{1,3}[.)]|#\d{1,3}|\[[^\]]{1,20}\])\s*[^*_]{2,}?(?:\*\*|__)"
    r"(?:\s*[(\[][^)\]]{1,30}[)\]])?\s*:?$"
)


# "**H1. Cursor committed too early.** In `runner.py:141` …", "**M-2:** …": a bold lead-in with its own
# ID or number, and the finding's text after it on the same line.
_BOLD_LEAD = re.compile(
    r"^(?:\*\*|__)\s*(?P<title>(?:\d{1,3}[.)]|#\d{1,3}|\[[^\]]{1,20}\]|[A-Z][A-Za-z]{0,5}-?\d{1,3}[a-z]?(?:[.):]|\s[-–—]\s))"
    r"[^*_]{2,}?)(?:\*\*|__)\s*(?P<rest>\S.*)?$"
)


# "**Retries re-send POSTs.** The client …": a bold lead-in (not a "**Name:**" field) and its text.
_BOLD_PLAIN_LEAD = re.compile(
    r"^(?:\*\*|__)(?P<title>[^*_:]{3,120}?[^*_:\s])(?:\*\*|__)(?!\s*:)(?P<rest>\s+\S.*)?$"
)


# "**SQL injection** (High)", "**Weak hashing** — Medium": a bold title with a severity after it.
_BOLD_SEVERITY_TITLE = re.compile(
    r"^(?:\*\*|__)[^*_]{3,}?(?:\*\*|__)\s*(?:[(\[]\s*(?P<a>[^)\]]{1,25}?)\s*[)\]]|[-–—|]\s*(?P<b>\S.{0,20}?))\s*:?$"
)


def _promote_bold_titles(section: Section) -> None:
    """Turn paragraphs that open with a numbered, tagged or severity-suffixed bold line into sub-sections.

    Under a heading that names a severity ("### High", "#### 🔴 High — Correctness"), a paragraph
    that opens with a bold lead-in ("**Retries re-send POSTs.** The client …") is an entry too.
    """
    from gitorch_markdown.lexicon import fold, is_generic_title, is_group_title, signals, value_severity

    rated_heading = bool(section.level and signals(section.title.text))
    # plain lead-ins only under a heading that names a severity in words ("### High", "🔴 High —
    # Correctness"), not one rated by a colour alone ("### 🔴 SQL injection" is one finding)
    worded = rated_heading and any(s.form in ("word", "label") for s in signals(section.title.text))
    numbered, rated, leads = [], [], []
    splits: dict[int, str] = {}
    for i, block in enumerate(section.blocks):
        if block.kind != "para" or not block.lines:
            continue
        raw = block.lines[0].raw
        if _BOLD_TITLE.match(raw):
            numbered.append(i)
        elif (m := _BOLD_LEAD.match(raw)) and m.group("rest"):
            numbered.append(i)
            splits[i] = m.group("title")
        elif (m := _BOLD_SEVERITY_TITLE.match(raw)) and value_severity(m.group("a") or m.group("b") or ""):
            tag = fold(m.group("a") or m.group("b") or "")
            if not all(s.form == "word" and s.weight < 2 for s in signals(tag)):  # not "(Important)"
                rated.append(i)
        elif (
            worded
            and (m := _BOLD_PLAIN_LEAD.match(raw))
            and len(m.group("title").split()) >= 2
            and not is_generic_title(m.group("title"))
        ):
            leads.append(i)
            splits[i] = m.group("title")
    # one numbered entry is enough under a severity heading ("#### 🟢 Low" over "**L1. …**")
    enough = len(numbered) >= 2 or (numbered and rated_heading)
    prose_first = leads and any(b.kind == "para" for b in section.blocks[: leads[0]])
    if prose_first and not is_group_title(section.title.text):
        leads = []  # "### High: SQL injection" opening with prose is a finding, its lead-ins are details
    starts = sorted(rated + (numbered if enough else []) + leads)
    if not starts:
        return
    head, promoted = section.blocks[: starts[0]], []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(section.blocks)
        first = section.blocks[start]
        if start in splits:  # "**H1. Title.** text": the bold part is the title, the rest the body
            _split_lead(first, splits[start])
        child = Section(section.level + 1, first.lines[0], first.line, parent=section, promoted=True)
        rest = first.lines[1:]
        child.blocks = ([Block("para", first.line, lines=rest)] if rest else []) + section.blocks[
            start + 1 : end
        ]
        promoted.append(child)
    section.blocks = head
    section.children = promoted + section.children


def _split_lead(block: Block, bold: str) -> None:
    first = block.lines[0]
    title = bold.strip().rstrip(".:")
    cut = first.text.find(bold.strip())
    rest_text = first.text[cut + len(bold.strip()) :].strip() if cut >= 0 else first.text
    rest_raw = first.raw.split("**", 2)[-1].strip() if first.raw.count("**") >= 2 else rest_text
    block.lines[0:1] = [Line(title, f"**{title}**", []), Line(rest_text, rest_raw, list(first.codes))]


# NOTE: markdown-it keeps a token for every block and inline run of the whole text; a report of a few
# megabytes then needs tens of times its size. The text is parsed in chunks cut where a new
# top-level block starts (never inside a fence or an HTML comment), each chunk's tokens folded into
# the section tree and dropped. Reports under one chunk are parsed exactly as a whole.
CHUNK_CHARS = 64 * 1024
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
_MARKDOWN_INFO = ("markdown", "md", "gfm")


def _chunks(text: str, size: int | None = None):
    """``(first line number, text)`` pieces of ``text`` that parse as the whole does.

    A top-level ```` ```markdown ```` fence (agents often wrap their whole answer in one; read as
    code it would hide every finding) is unwrapped: its fence lines become blank lines.
    """
    size = size or CHUNK_CHARS
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    length = 0
    first = 0
    fence: str | None = None  # the open code fence's marker
    wrapper: str | None = None  # the open ```markdown fence's marker
    comment = False
    previous_blank = True
    for number, line in enumerate(lines):
        stripped = line.strip()
        blank = not stripped
        if (
            length >= size
            and fence is None
            and not comment
            and not blank
            and not line[:1].isspace()
            and (previous_blank or line.startswith("#"))
        ):
            yield first, "".join(out)
            out, length, first = [], 0, number
        m = _FENCE.match(line)
        if fence is not None:
            closing = m and m.group("fence")[0] == fence[0] and len(m.group("fence")) >= len(fence)
            if closing and not m.group("info"):
                fence = None
        elif m and m.group("info").lower() in _MARKDOWN_INFO and wrapper is None:
            wrapper = m.group("fence")
            line = "\n"
        elif m and wrapper is not None and not m.group("info") and m.group("fence")[0] == wrapper[0]:
            wrapper = None
            line = "\n"
        elif m:
            fence = m.group("fence")
        elif "<!--" in line:
            comment = line.rfind("<!--") > line.rfind("-->")
        elif comment and "-->" in line:
            comment = False
        out.append(line)
        length += len(line)
        previous_blank = blank
    if out:
        yield first, "".join(out)


def parse_document(text: str) -> Section:
    """Parse Markdown into a section tree (root level 0 holds the text before the first heading)."""
    from markdown_it import MarkdownIt  # imported here so loading the plugin stays cheap

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # NOTE: link targets are never used; skipping their URL normalisation halves the time on link-heavy text
    md.normalizeLink = md.normalizeLinkText = lambda url: url  # type: ignore[method-assign]
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    root = Section(0, Line("", ""), 0)
    stack = [root]
    for offset, chunk in _chunks(text):
        tokens = md.parse(chunk)
        reader = _Reader(tokens, offset)
        while reader.i < len(tokens):
            tok = tokens[reader.i]
            if tok.type == "heading_open":
                level = int(tok.tag[1])
                title_lines = _inline(tokens[reader.i + 1])
                title = Line(
                    " ".join(x.text for x in title_lines),
                    " ".join(x.raw for x in title_lines),
                    [c for x in title_lines for c in x.codes],
                )
                line = (tok.map[0] + 1 + offset) if tok.map else 0
                reader.i += 3
                while stack[-1].level >= level:
                    stack.pop()
                section = Section(level, title, line, parent=stack[-1])
                stack[-1].children.append(section)
                stack.append(section)
                continue
            block = reader.block()
            if block is not None:
                stack[-1].blocks.append(block)
        del tokens, reader
    for section in list(root.walk()):
        _promote_bold_titles(section)
    return root
