"""`gitorch report --format html`: one self-contained page, checked in a real headless Chromium."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from loophelpers import MARKER_CONFIG, git

from gitorch.testing.browser import Browser, find_chromium

CONFIG = MARKER_CONFIG


@pytest.fixture
def finished_run(project, fake_plugins, monkeypatch, cli, tmp_path):
    """A run with commits, a fix whose tests fail (rolled back twice), a declined one, over 2 iterations."""
    import gitorch.cli

    monkeypatch.setattr(gitorch.cli, "get_app_plugins", lambda: fake_plugins)
    root = project([("P1", "good"), ("P1", "break"), ("P1", "bigdelete"), ("P2", "good2"), ("P3", "good3")])
    (root / ".gitorch.toml").write_text(CONFIG)
    git(root, "add", ".gitorch.toml")
    git(root, "commit", "-qm", "gitorch config")
    result = cli("fix", "--repo", str(root), "--dim", "backend", "--max-iterations", "3")
    assert result.exit_code in (5, 7, 8), result.output
    page = tmp_path / "report.html"
    assert cli("report", "--repo", str(root), "--format", "html", "--output", str(page)).exit_code == 0
    data = json.loads(cli("report", "--repo", str(root), "--format", "json").stdout)
    return page, data


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_the_page_is_self_contained(finished_run):
    page, data = finished_run
    text = page.read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(text)
    tags = {tag for tag, _ in parser.tags}
    assert "script" not in tags and "link" not in tags and "iframe" not in tags and "img" not in tags
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg"}  # the SVG namespace names, never loads
    assert "@import" not in text and "url(" not in text
    assert data["session"] in text and "<svg" in text


def test_the_page_shows_what_the_json_report_says(finished_run):
    page, data = finished_run
    parser = _Tags()
    parser.feed(page.read_text(encoding="utf-8"))
    points = [a for tag, a in parser.tags if tag == "circle" and "point" in (a.get("class") or "")]
    expected = [(d, 0, data["initial_scores"][d]) for d in data["dimensions"]]
    for it in data["iterations"]:
        expected += [(d, it["iteration"], it["scores_after"][d]) for d in data["dimensions"]]
    shown = [(a["data-dimension"], int(a["data-iteration"]), float(a["data-score"])) for a in points]
    assert sorted(shown) == sorted(expected) and len(data["iterations"]) >= 2
    commits = [a["data-sha"] for tag, a in parser.tags if tag == "tr" and a.get("class") == "commit"]
    assert commits == [c["sha"] for c in data["commit_rows"]] and len(commits) == data["commits"] >= 2
    reasons = [a["data-reason"] for tag, a in parser.tags if tag == "tr" and a.get("class") == "set-aside"]
    assert reasons == [s["reason"] for s in data["set_aside"]]
    assert "tests failed" in reasons and "declined" in reasons


@pytest.mark.slow
def test_chromium_renders_the_page_with_no_error_and_draws_the_chart(finished_run, tmp_path):
    binary = find_chromium()
    if binary is None:
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run installs it)")
    page_file, data = finished_run
    with Browser.launch(binary) as browser:
        page = browser.open(page_file)
        assert page.errors == [] and page.requests == []
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('#score-chart polyline')).map(l => {"
            " const b = l.getBBox(); return [l.closest('g').dataset.dimension, b.width, b.height]; })"
        )
        assert {d for d, _, _ in drawn} == set(data["dimensions"])
        assert all(width > 100 for _, width, _ in drawn)  # a line across the iterations, not a dot
        final = page.evaluate("document.getElementById('final-score').dataset.value")
        assert float(final) == data["final_score"]
        assert page.evaluate("document.getElementById('commits').textContent.trim()") == str(data["commits"])
        visible = page.evaluate(
            "Array.from(document.querySelectorAll('circle.point')).filter(c => {"
            " const r = c.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length"
        )
        assert visible == len(data["dimensions"]) * (len(data["iterations"]) + 1)
        shot = page.screenshot(tmp_path / "report.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
