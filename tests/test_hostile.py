"""Hostile input: spellings of ``kind:`` that hide a legacy resource from a text filter,
names that try to inject YAML through a comment or forge a terminal line, and alias bombs.

Each test states the guarantee it holds: ``check`` and ``convert`` read a document as
kubectl does, whatever its spelling; no value from input leaves a comment, an error line or
a finding line other than as one escaped line; a bomb is refused in bounded time and memory.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from typer.testing import CliRunner

from istiomigrate.check.find import CheckOptions, check_text
from istiomigrate.cli.app import app
from istiomigrate.emit import comment, yaml_stream
from istiomigrate.errors import InputError
from istiomigrate.escape import shown
from istiomigrate.kinds import KINDS_OF_INTEREST
from istiomigrate.options import Options
from istiomigrate.pipeline import run
from istiomigrate.read.documents import Chunk, may_hide_names
from istiomigrate.read.inputs import Input
from istiomigrate.read.inventory import Inventory, read_source, source_file

ROOT = Path(__file__).resolve().parent.parent
API = "config.istio.io/v1alpha2"
BODY = "metadata: {name: r, namespace: default}\nspec: {destination: {name: reviews}}\n"


def invoke(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


def _inventory(text: str, display: str = "in.yaml") -> Inventory:
    inventory = Inventory()
    read_source(source_file(Input(display, None, text)), inventory, "default")
    return inventory


# --------------------------------------------------------------------------- 1. spellings

# Each spelling of ``kind: RouteRule`` that YAML (and so kubectl) reads as RouteRule.
YAML_SPELLINGS = {
    "double-quoted escape": f'apiVersion: {API}\nkind: "Route\\x52ule"\n{BODY}',
    "unicode escape": f'apiVersion: {API}\nkind: "\\u0052oute\\U00000052ule"\n{BODY}',
    "str tag": f"apiVersion: {API}\nkind: !!str RouteRule\n{BODY}",
    "verbatim tag": f"apiVersion: {API}\nkind: !<tag:yaml.org,2002:str> RouteRule\n{BODY}",
    "binary tag": f"apiVersion: {API}\nkind: !!binary {base64.b64encode(b'RouteRule').decode()}\n"
                  f"{BODY}",
    "anchor and alias": f"a: &k RouteRule\napiVersion: {API}\nkind: *k\n{BODY}",
    "anchored value": f"apiVersion: {API}\nkind: &k RouteRule\n{BODY}",
    "folded block": f"apiVersion: {API}\nkind: >-\n  RouteRule\n{BODY}",
    "literal block": f"apiVersion: {API}\nkind: |-\n  RouteRule\n{BODY}",
    "escaped key": f'apiVersion: {API}\n"\\x6bind": RouteRule\n{BODY}',
    "comment before value": f"apiVersion: {API}\nkind: # what\n  RouteRule\n{BODY}",
    "explicit key": f"apiVersion: {API}\n? kind\n: RouteRule\n{BODY}",
    "merge key": f"base: &b {{kind: RouteRule}}\n<<: *b\napiVersion: {API}\n{BODY}",
    "flow mapping": '{apiVersion: ' + API + ', kind: RouteRule, metadata: {name: r}, '
                    'spec: {destination: {name: reviews}}}\n',
    "next-line NEL": f"apiVersion: {API}\nkind: RouteRule\x85{BODY}",
    "list in flow sequence": "apiVersion: v1\nkind: List\nitems: [kind: RouteRule]\n",
}
JSON_SPELLINGS = {
    "json unicode escape": json.dumps({"apiVersion": API, "kind": "RouteRule",
                                       "metadata": {"name": "r"},
                                       "spec": {"destination": {"name": "reviews"}}},
                                      ).replace('"RouteRule"', '"\\u0052oute\\u0052ule"'),
    "json escaped key": json.dumps({"apiVersion": API, "kind": "RouteRule",
                                    "metadata": {"name": "r"},
                                    "spec": {"destination": {"name": "reviews"}}},
                                   ).replace('"kind"', '"\\u006bind"'),
}


@pytest.mark.parametrize("name", sorted(YAML_SPELLINGS) + sorted(JSON_SPELLINGS))
def test_check_finds_every_spelling(name: str, tmp_path: Path) -> None:
    text = {**YAML_SPELLINGS, **JSON_SPELLINGS}[name]
    path = tmp_path / ("in.json" if name.startswith("json") else "in.yaml")
    path.write_text(text, encoding="utf-8")
    result = invoke("check", str(path))
    assert result.exit_code == 1, result.stderr
    assert "RouteRule" in result.stdout


@pytest.mark.parametrize(
    "name", sorted(set(YAML_SPELLINGS) - {"list in flow sequence"}) + sorted(JSON_SPELLINGS))
def test_convert_converts_every_spelling(name: str, tmp_path: Path) -> None:
    text = {**YAML_SPELLINGS, **JSON_SPELLINGS}[name]
    path = tmp_path / ("in.json" if name.startswith("json") else "in.yaml")
    path.write_text(text, encoding="utf-8")
    result = invoke("convert", str(path))
    assert result.exit_code == 0, result.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(result.stdout) if d]
    assert "VirtualService" in kinds


def test_convert_reports_a_list_item_it_cannot_convert(tmp_path: Path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(YAML_SPELLINGS["list in flow sequence"], encoding="utf-8")
    result = invoke("convert", str(path))
    assert result.exit_code == 2  # a RouteRule without a name: one error line, not skipped
    assert "RouteRule" in result.stderr and "metadata.name is required" in result.stderr


def test_a_tree_with_a_hidden_rule_is_converted_in_place(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(YAML_SPELLINGS["anchor and alias"], encoding="utf-8")
    result = invoke("convert", "--in-place", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all((tmp_path / "a.yaml").read_text()) if d]
    assert kinds == ["VirtualService"]


def test_plain_documents_stay_cheap() -> None:
    """The pre-filter parses nothing of an ordinary Deployment or Service."""
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
                  "spec:\n  template:\n    spec:\n      containers:\n      - name: web\n"
                  "        image: nginx:1.25  # pinned\n        args: ['Hello!', '#!/bin/sh']\n")
    assert not may_hide_names(deployment)
    assert Chunk(0, 1, deployment).kinds() == set()
    assert check_text("d.yaml", deployment, CheckOptions()).legacy == []


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KINDS_OF_INTEREST),
       st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
       st.sampled_from([None, '"', "'", "|", ">"]), st.booleans(), st.booleans())
def test_kinds_is_a_superset_of_what_yaml_reads(kind: str, extra: dict, style: str | None,
                                                canonical: bool, ascii_only: bool) -> None:
    """Whatever way PyYAML's emitter writes a document (quoted, escaped, tagged, block
    scalars), the text filter keeps its kind."""
    text = yaml.dump({**extra, "kind": kind}, default_style=style, canonical=canonical,
                     allow_unicode=not ascii_only)
    read = yaml.safe_load(text)["kind"]
    assert read == kind
    assert kind in Chunk(0, 1, text).kinds()


# Pieces of a spelling: each reads as the text it stands for.
def _escaped(text: str, draw_bits: list[bool]) -> str:
    out = []
    for char, bit in zip(text, draw_bits, strict=False):
        out.append(f"\\x{ord(char):02x}" if bit else char)
    out.append(text[len(draw_bits):])
    return '"' + "".join(out) + '"'


@st.composite
def spellings(draw: st.DrawFn) -> str:
    """A key and a value spelt in one of YAML's ways, then a whole document around them."""
    def spell(word: str, as_key: bool) -> str:
        how = draw(st.sampled_from(
            ["plain", "single", "double", "escaped", "unicode", "str", "binary", "anchor"]
            + ([] if as_key else ["folded", "literal"])))
        if how == "plain":
            return word
        if how == "single":
            return f"'{word}'"
        if how == "double":
            return f'"{word}"'
        if how == "escaped":
            return _escaped(word, draw(st.lists(st.booleans(), max_size=len(word))))
        if how == "unicode":
            at = draw(st.integers(0, len(word) - 1))
            return '"' + word[:at] + f"\\u{ord(word[at]):04x}" + word[at + 1:] + '"'
        if how == "str":
            return f"!!str {word}"
        if how == "binary":
            return f"!!binary {base64.b64encode(word.encode()).decode()}"
        if how == "anchor":
            return f"&{'k' if as_key else 'v'} {word}"
        indicator = ">-" if how == "folded" else "|-"
        return f"{indicator}\n  {word}"

    key, value = spell("kind", True), spell("RouteRule", False)
    alias = draw(st.booleans()) and not value.startswith(("&", ">", "|"))
    head = f"anchor: &a {value}\n" if alias else ""
    if alias:
        value = "*a"
    return f"{head}apiVersion: {API}\n{key}: {value}\n{BODY}"


@settings(max_examples=150, deadline=None)
@given(spellings())
def test_any_spelling_is_found_and_converted(text: str) -> None:
    assert yaml.safe_load(text.replace("!!binary", "!!str")) is not None  # it is YAML
    found = check_text("in.yaml", text, CheckOptions()).legacy
    assert [(e.kind, e.name) for e in found] == [("RouteRule", "r")]
    inventory = _inventory(text)
    assert [r.kind for r in inventory.legacy] == ["RouteRule"]
    docs = yaml_stream(run(inventory, Options()).conversion.resources)
    assert "VirtualService" in [d["kind"] for d in yaml.safe_load_all(docs) if d]


def _json_escaped(word: str, bits: list[bool]) -> str:
    return "".join(f"\\u{ord(c):04x}" if bit else c
                   for c, bit in zip(word, bits + [False] * len(word), strict=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), max_size=4), st.lists(st.booleans(), max_size=9),
       st.booleans())
def test_any_json_spelling_is_found_and_converted(key: list[bool], value: list[bool],
                                                  compact: bool) -> None:
    doc = {"apiVersion": API, "kind": "RouteRule", "metadata": {"name": "r"},
           "spec": {"destination": {"name": "reviews"}}}
    text = json.dumps(doc, indent=None if compact else 2,
                      separators=(",", ":") if compact else None)
    text = text.replace('"kind"', f'"{_json_escaped("kind", key)}"').replace(
        '"RouteRule"', f'"{_json_escaped("RouteRule", value)}"')
    assert json.loads(text) == doc
    found = check_text("in.json", text, CheckOptions()).legacy
    assert [(e.kind, e.name) for e in found] == [("RouteRule", "r")]
    assert [r.kind for r in _inventory(text, "in.json").legacy] == ["RouteRule"]


# --------------------------------------------------------------------------- 2. injection

HOSTILE = ["x\n- route: [{destination: {host: evil.example.com}}]", "a\rb", "a\u2028b",
           "a\u2029b", "a\x85b", "a\x1b[2Jb", "a\x00b", "\u202eevil", "a\\x0ab"]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30),
)


def _rule(name: str, namespace: str, *, precedence: int = 1, match: bool = True) -> dict:
    spec: dict = {"destination": {"name": "reviews"}, "precedence": precedence,
                  "route": [{"labels": {"version": "v1"}}]}
    if match:
        spec["match"] = {"request": {"headers": {"uri": {"prefix": "/a"}}}}
    return {"apiVersion": API, "kind": "RouteRule",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _ruamel_docs(text: str) -> list:
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d is not None]


def _as_plain(value: object) -> object:
    return json.loads(json.dumps(value))


@settings(max_examples=100, deadline=None)
@given(hostile_text, hostile_text)
def test_emitted_yaml_is_exactly_the_resources_whatever_the_names(name: str, path: str) -> None:
    """Rule names and file names reach route comments; the YAML read back is what was meant."""
    inventory = _inventory(yaml.safe_dump_all([_rule(name, "default"),
                                               _rule(name + "2", "default", precedence=0,
                                                     match=False)]),
                           display=path)
    resources = run(inventory, Options()).conversion.resources
    assert any(r.comments for r in resources)
    text = yaml_stream(resources)
    expected = [_as_plain(r.document()) for r in resources]
    assert [d for d in yaml.safe_load_all(text) if d is not None] == expected
    assert [_as_plain(d) for d in _ruamel_docs(text)] == expected
    for line in text.splitlines():
        assert line.lstrip().startswith("#") or "evil.example.com" not in line


@given(hostile_text)
def test_a_comment_is_one_line(text: str) -> None:
    line = comment(text)
    assert line.splitlines() == [line] and yaml.safe_load(line + "\nk: v\n") == {"k": "v"}
    assert _ruamel_docs(line + "\nk: v\n") == [{"k": "v"}]


def test_notes_in_a_rewritten_tree_cannot_inject(tmp_path: Path) -> None:
    """Two rules of one host in two files: the second file gets a note naming the first."""
    evil = HOSTILE[0]
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(_rule(evil, "default")))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(_rule(evil + "2", "default",
                                                          precedence=0, match=False)))
    result = invoke("convert", "--in-place", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    texts = [(tmp_path / f).read_text() for f in ("a.yaml", "b.yaml")]
    docs = [d for text in texts for d in yaml.safe_load_all(text) if d]
    assert [d["kind"] for d in docs] == ["VirtualService", "DestinationRule"]
    assert all(r["destination"]["host"] != "evil.example.com"
               for d in docs if d["kind"] == "VirtualService"
               for h in d["spec"]["http"] for r in h["route"])
    assert any("converted into" in t for t in texts)  # the note is there, escaped
    for text in texts:
        assert _ruamel_docs(text) == [d for d in yaml.safe_load_all(text) if d]


# --------------------------------------------------------------------------- 3. terminal

_RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def test_shown_renders_every_control_visibly() -> None:
    assert shown("a\x1b[31mb\nc\u2028d\u202e\x85\x7f") == (
        "a\\x1b[31mb\\x0ac\\u2028d\\u202e\\x85\\x7f")
    assert shown("plain/path.yaml") == "plain/path.yaml"
    assert shown("C:\\dir") == "C:\\dir"
    hostile = "\x1b\n\u2028"
    assert shown(shown(hostile)) == shown(hostile)


@given(hostile_text, hostile_text)
def test_an_input_error_is_one_escaped_line(name: str, file: str) -> None:
    line = str(InputError(f"RouteRule default/{name}: bad", file=file, field=name))
    assert line.splitlines() == [line] and not _RAW_CONTROL.search(line)


def _one_line_each(text: str) -> list[str]:
    lines = text.splitlines()
    assert all(not _RAW_CONTROL.search(line) for line in lines), lines
    return lines


def test_cli_error_with_a_hostile_name_and_path_is_one_line(tmp_path: Path) -> None:
    directory = tmp_path / "d\x1b[2J\nx"
    directory.mkdir()
    bad = dict(_rule("n\x1b]0;pwned\x07\ninjected", "default"))
    bad["spec"]["nonsense\x1b[31m"] = 1
    path = directory / "e\x1b[1m\r.yaml"
    path.write_text(yaml.safe_dump(bad))
    result = invoke("convert", str(path))
    assert result.exit_code == 2
    lines = _one_line_each(result.stderr)
    assert len(lines) == 1 and lines[0].startswith("istiomigrate: error: ")
    assert "\\x1b" in lines[0] and "nonsense" in lines[0]


def test_cli_yaml_error_text_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "y.yaml"
    path.write_text(f"apiVersion: {API}\nkind: RouteRule\nmetadata: {{name: \x1b[2J\x07}}\n")
    result = invoke("convert", str(path))
    assert result.exit_code == 2
    assert len(_one_line_each(result.stderr)) == 1


def test_findings_and_check_lines_with_hostile_names(tmp_path: Path) -> None:
    name = "r\x1b[2J\ninjected: line\u2028x"
    path = tmp_path / "f\x1b[31m\n.yaml"
    path.write_text(yaml.safe_dump_all([_rule(name, "default"),
                                        _rule(name, "default", precedence=1)]))
    report = tmp_path / "report.txt"
    result = invoke("convert", "--report-file", str(report), str(path))
    lines = _one_line_each(report.read_text())
    assert lines and all(re.match(r"^\S.*: (info|warning|error) IM\d{3}: ", ln) for ln in lines)
    for fmt in ("text", "github"):
        result = invoke("check", "--format", fmt, str(path))
        assert result.exit_code == 1
        out = _one_line_each(result.stdout)
        assert len(out) == 2, out  # one line per legacy resource
        assert all("\\x1b" in line for line in out)
    junit = invoke("check", "--format", "junit", str(path)).stdout
    assert "\x1b" not in junit
    assert len(__import__("xml.etree.ElementTree", fromlist=["x"]).fromstring(
        junit.split("\n", 1)[1]).iter("failure").__next__().get("message")) > 0


def test_markdown_report_escapes_names(tmp_path: Path) -> None:
    path = tmp_path / "x`|[a](http:evil).yaml"
    path.write_text(yaml.safe_dump(_rule("r<img src=x>", "default")))
    out = tmp_path / "r.md"
    invoke("convert", "--report-format", "markdown", "--report-file", str(out), str(path))
    text = out.read_text()
    body = text.split("\n", 1)[1]
    assert "\\<img" in body and "\\[a\\]\\(" in body and "x\\`\\|" in body
    assert not re.search(r"(?<!\\)(?:<img|\[a\]|`\|)", body)  # never unescaped


# --------------------------------------------------------------------------- 4. bombs


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["apiVersion: networking.istio.io/v1alpha3", "kind: VirtualService",
             "metadata: {name: reviews, namespace: default}", "spec:", "  hosts: [reviews]",
             "  l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]"
              for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


RULE_TEXT = yaml.safe_dump(_rule("r", "default"))


def _limit_memory() -> None:
    gib = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (gib, gib))


def _bounded(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "istiomigrate", *args], capture_output=True,
                          text=True, timeout=120, preexec_fn=_limit_memory, env=env, check=False)


def test_bomb_beside_a_rule_is_one_error_line(tmp_path: Path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(RULE_TEXT + "---\n" + _bomb())
    result = _bounded("convert", str(path))
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "alias bomb" in lines[0] and "document 2" in lines[0]


def test_bomb_in_a_tree_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "in.yaml").write_text(RULE_TEXT + "---\n" + _bomb())
    result = _bounded("convert", str(tmp_path))
    assert "IM211" in result.stderr and "alias bomb" in result.stderr, result.stderr[-2000:]
    assert result.returncode in (0, 1)


def test_bomb_for_check_and_verify(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.yaml"
    legacy.write_text(RULE_TEXT)
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(_bomb())
    assert _bounded("check", str(bomb)).returncode == 0
    result = _bounded("verify", str(legacy), "--against", str(bomb))
    assert result.returncode == 2 and "alias bomb" in result.stderr, result.stderr[-2000:]


def test_ordinary_anchors_still_load() -> None:
    text = ("apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\n"
            "metadata: {name: reviews, namespace: default}\n"
            "spec:\n  hosts: [reviews]\n  http:\n  - route: &r [{destination: {host: a}}]\n"
            "  - route: *r\n")
    inventory = _inventory(RULE_TEXT + "---\n" + text)
    assert [e.kind for e in inventory.existing] == ["VirtualService"]


def test_progress_bar_shows_a_hostile_file_name_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    from istiomigrate import progress

    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    stream = Terminal()
    with progress.Progress("reading", total=1, stream=stream) as bar:
        bar.advance("[red]x\x1b]0;title\x07.yaml")
    drawn = stream.getvalue()
    assert "\x1b]0;" not in drawn and "\x07" not in drawn
    assert "[red]x\\x1b]0;title\\x07.yaml" in drawn  # as written: markup not applied


@pytest.mark.parametrize("spelt", ["!!str List", '"Li\\x73t"', "&k List"])
def test_a_list_spelt_oddly_keeps_its_other_items(tmp_path: Path, spelt: str) -> None:
    """A rewritten ``kind: List`` is known by what YAML reads, so its other items survive."""
    rule = json.dumps(_rule("r", "default"))
    text = (f"apiVersion: v1\nkind: {spelt}\nitems:\n- {rule}\n"
            "- {apiVersion: v1, kind: ConfigMap, metadata: {name: keep-me}}\n")
    (tmp_path / "l.yaml").write_text(text)
    result = invoke("convert", "--in-place", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    docs = [d for d in yaml.safe_load_all((tmp_path / "l.yaml").read_text()) if d]
    kept = [i["metadata"]["name"] for d in docs if d["kind"] == "List" for i in d["items"]]
    assert kept == ["keep-me"]
    assert "VirtualService" in [d["kind"] for d in docs]


def test_diff_headers_name_a_hostile_file_on_one_line(tmp_path: Path) -> None:
    """``--diff`` is data on stdout, but its header lines name files: escaped, one line each."""
    root = tmp_path / "in"
    root.mkdir()
    hostile = root / "evil\x1b[2Jname\n+injected.yaml"
    hostile.write_text((ROOT / "fixtures" / "example" / "bookinfo" / "routing.yaml").read_text())
    result = invoke("convert", str(root), "--diff")
    assert result.exit_code in (0, 1), result.stderr
    headers = [line for line in result.stdout.splitlines() if line.startswith(("--- ", "+++ "))]
    assert len(headers) == 2 and "\x1b" not in result.stdout.split("@@")[0]
    assert all("evil\\x1b[2Jname\\x0a+injected.yaml" in line for line in headers), headers


def test_cluster_plan_lines_escape_what_came_from_the_cluster() -> None:
    from istiomigrate.cluster import plan as cluster_plan

    text = cluster_plan.render(cluster_plan.Plan(), "cluster ctx\x1b]0;owned\x07")
    assert "\x1b" not in text and "\x07" not in text
    assert "cluster ctx\\x1b]0;owned\\x07" in text.splitlines()[0]
