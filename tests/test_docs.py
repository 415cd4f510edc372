"""The documentation matches the code.

* ``docs/cli.md`` and ``docs/catalogues.md`` are what ``docs/generate.py`` writes now;
* every public name of ``fifteenmin.__all__`` appears in ``docs/python-api.md``;
* every relative link of ``docs/*.md`` and ``README.md`` points to a file that exists (and to a
  heading that exists, for ``page.md#anchor`` links);
* the examples of ``docs/python-api.md`` run and print what the page says.
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import unquote

import pytest

import fifteenmin

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GENERATED = ("cli.md", "catalogues.md", "summary-json.md")
PAGES = [*sorted(DOCS.glob("*.md")), ROOT / "README.md"]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", flags=re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", flags=re.S)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", flags=re.M)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", flags=re.M)


def _prose(text: str) -> str:
    """The Markdown without fenced code blocks and code spans (links there are not links)."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def _links(text: str) -> list[str]:
    prose = _prose(text)
    return _LINK.findall(prose) + _REF_DEF.findall(prose)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)  # inline HTML
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links -> their text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for _, title in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = _slug(title)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


# ------------------------------------------------------------------------------ generated pages
def test_generated_pages_are_up_to_date(tmp_path):
    result = subprocess.run(
        [sys.executable, str(DOCS / "generate.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for name in GENERATED:
        fresh = (tmp_path / name).read_bytes()
        committed = (DOCS / name).read_bytes() if (DOCS / name).is_file() else b""
        assert fresh == committed, (
            f"docs/{name} is out of date with the code: run `python docs/generate.py` "
            "and commit the result"
        )


def test_generator_is_deterministic(tmp_path):
    spec = importlib.util.spec_from_file_location("_fifteenmin_docs_generate", DOCS / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    first = generate.render()
    assert generate.render() == first
    assert set(first) == set(GENERATED)
    # nothing machine-specific leaks into the pages
    for text in first.values():
        assert str(ROOT) not in text
        assert str(Path.home()) not in text


# ------------------------------------------------------------------------------ python-api.md
def test_every_public_name_is_documented():
    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in fifteenmin.__all__
        if not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)
    ]
    assert not missing, f"docs/python-api.md does not mention: {missing}"


@pytest.mark.slow
def test_python_api_examples_run(tmp_path, monkeypatch):
    text = (DOCS / "python-api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```pycon\n(.*?)^```", text, flags=re.M | re.S)
    assert blocks, "no ```pycon example in docs/python-api.md"
    test = doctest.DocTestParser().get_doctest(
        "\n\n".join(blocks), {}, "docs/python-api.md", str(DOCS / "python-api.md"), 0
    )
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    monkeypatch.chdir(tmp_path)  # the examples write files
    out: list[str] = []
    with warnings.catch_warnings():
        runner.run(test, out=out.append)
    failed, attempted = runner.summarize(verbose=False)
    assert attempted > 0
    assert failed == 0, "".join(out)


# ------------------------------------------------------------------------------ links
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(page):
    broken = []
    for target in _links(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
            continue  # http:, https:, mailto: ...
        path_part, _, anchor = target.partition("#")
        dest = page if not path_part else (page.parent / unquote(path_part)).resolve()
        if not dest.exists():
            broken.append(f"{target} (no file {dest})")
            continue
        if anchor and dest.suffix == ".md" and unquote(anchor) not in _anchors(dest):
            broken.append(f"{target} (no heading with the anchor #{anchor} in {dest.name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_docs_exist():
    for name in (
        "index.md",
        "getting-started.md",
        "concepts.md",
        "cli.md",
        "catalogues.md",
        "data-and-licences.md",
        "python-api.md",
    ):
        assert (DOCS / name).is_file(), name


def test_link_checker_finds_links():
    # guard against a regex that silently matches nothing
    text = 'See [a](a.md), [b](b.md#x "t"), `[c](c.md)` and ![img](i.png).\n```\n[d](d.md)\n```\n'
    assert _links(text) == ["a.md", "b.md#x", "i.png"]
    assert _slug("Data gaps and service gaps") == "data-gaps-and-service-gaps"
    assert _slug("`fifteenmin report`") == "fifteenmin-report"
