"""``istiomigrate check``: the CI gate that fails while legacy resources remain.

Driven through the CLI (typer's CliRunner, and subprocesses where the real
process matters: exit codes, imports, the pre-commit hook). Fixture trees are
in fixtures/check/; trees that need odd file names, symlinks or bad bytes are
built in tmp_path.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from istiomigrate.check import formats as check_output
from istiomigrate.cli import app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = "fixtures/check"
LEGACY = f"{FIXTURES}/legacy"
ROUTING = f"{LEGACY}/apps/reviews/routing.yaml"

# Every legacy resource of fixtures/check/legacy: (kind, namespace, name, file, line, column).
EXPECTED_LEGACY = {
    ("EgressRule", "egress", "google", f"{LEGACY}/apps/egress/egress.yml", 2, 1),
    ("RouteRule", "default", "reviews-default", ROUTING, 14, 1),
    ("DestinationPolicy", "bookinfo", "reviews-cb", ROUTING, 26, 1),
    ("Ingress", "default", "gateway", f"{LEGACY}/ingress/ingresses.yaml", 2, 1),
    ("RouteRule", "default", "details-v1", f"{LEGACY}/json/list.json", 7, 7),
    ("DestinationPolicy", "shop", "details-lb", f"{LEGACY}/json/list.json", 19, 7),
    ("RouteRule", "bookinfo", "ratings-test-delay", f"{LEGACY}/json/routerule.json", 3, 3),
    ("RouteRule", "{{ .Release.Namespace }}", '{{ template "reviews.fullname" . }}-canary',
     f"{LEGACY}/helm/templates/routerule.yaml", 3, 1),
}
LEGACY_FILES = 7  # files under fixtures/check/legacy

ROUTE_RULE = """\
apiVersion: config.istio.io/v1alpha2
kind: RouteRule
metadata:
  name: reviews
spec:
  destination:
    name: reviews
"""


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in the output are as given; run from the root so they read fixtures/check/..."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NO_COLOR", raising=False)


def run(*args: str, input: str | bytes | None = None):
    return CliRunner().invoke(app, ["check", *args], input=input)


def as_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def located(data: dict) -> set[tuple]:
    return {(e["kind"], e["namespace"], e["name"], e["file"], e["line"], e["column"])
            for e in data["legacy"]}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- finding


def test_clean_tree_exits_0_with_empty_listing():
    result = run(f"{FIXTURES}/clean")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no legacy resources in 2 files" in result.stderr


def test_legacy_in_nested_directories_with_file_line_and_column():
    data = as_json(LEGACY)
    assert located(data) == EXPECTED_LEGACY
    for entry in data["legacy"]:
        assert entry["convert"] == f"istiomigrate convert {entry['file']}"


def test_lines_point_at_the_kind_key():
    """Whatever the file, the line and column given hold the entry's ``kind`` key."""
    for kind, _ns, _name, file, line, column in EXPECTED_LEGACY:
        text = (ROOT / file).read_text().splitlines()[line - 1]
        assert re.match(r"""["']?kind["']?\s*:\s*["']?""" + kind, text[column - 1:]), (file, line)


def test_helm_template_is_found_by_its_text_and_flagged_unparsed():
    data = as_json(f"{LEGACY}/helm")
    (entry,) = data["legacy"]
    assert entry["unparsed"] is True
    assert (entry["kind"], entry["apiVersion"], entry["line"]) == (
        "RouteRule", "config.istio.io/v1alpha2", 3)
    assert entry["name"] == '{{ template "reviews.fullname" . }}-canary'
    assert data["summary"]["unparsed"] == 1
    parsed = as_json(f"{LEGACY}/json")
    assert not any(e["unparsed"] for e in parsed["legacy"])


def test_template_without_legacy_kind_is_a_warning_not_a_failure():
    template = f"{LEGACY}/helm/templates/deployment.yaml"
    result = run(template)
    assert result.exit_code == 0
    assert result.stdout == ""
    assert f"{template}:" in result.stderr and "warning: not valid YAML" in result.stderr
    strict = run(template, "--strict")
    assert strict.exit_code == 1


def test_broken_yaml_naming_a_legacy_kind_is_still_legacy(tmp_path: Path):
    path = write(tmp_path / "broken.yaml", ROUTE_RULE + "  route: [oops\n")
    data = as_json(str(path))
    (entry,) = data["legacy"]
    assert (entry["kind"], entry["name"], entry["line"], entry["unparsed"]) == (
        "RouteRule", "reviews", 2, True)
    assert data["warnings"] == []


def test_json_single_object_and_list_items():
    data = as_json(f"{LEGACY}/json/routerule.json", f"{LEGACY}/json/list.json")
    assert located(data) == {e for e in EXPECTED_LEGACY if "/json/" in e[3]}
    assert data["summary"]["files"] == 2
    assert "Service" not in {e["kind"] for e in data["legacy"]}


def test_ingress_of_class_istio_is_legacy_nginx_is_not():
    data = as_json(f"{LEGACY}/ingress", f"{FIXTURES}/clean")
    assert [(e["kind"], e["name"], e["apiVersion"]) for e in data["legacy"]] == [
        ("Ingress", "gateway", "extensions/v1beta1")]


def test_other_groups_and_v1alpha3_are_not_legacy(tmp_path: Path):
    write(tmp_path / "a.yaml", ROUTE_RULE.replace("config.istio.io/v1alpha2", "example.com/v1"))
    write(tmp_path / "b.yaml", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n"
          "  name: x\n  annotations:\n    kubernetes.io/ingress.class: istio\n")
    assert run(str(tmp_path)).exit_code == 0


def test_legacy_text_inside_a_configmap_is_not_a_resource(tmp_path: Path):
    embedded = "".join("    " + line + "\n" for line in ROUTE_RULE.splitlines())
    write(tmp_path / "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: docs\n"
          "data:\n  example.yaml: |\n" + embedded + "  alert: '{{ $labels.instance }} down'\n")
    result = run(str(tmp_path))
    assert (result.exit_code, result.stdout, "warning" in result.stderr) == (0, "", False)


def test_duplicate_keys_read_as_a_yaml_loader_reads_them(tmp_path: Path):
    write(tmp_path / "dup.yaml", "kind: Service\n" + ROUTE_RULE)
    assert [e["kind"] for e in as_json(str(tmp_path))["legacy"]] == ["RouteRule"]


def test_namespace_option_is_the_default_namespace():
    data = as_json(ROUTING, "--namespace", "prod")
    assert {(e["name"], e["namespace"]) for e in data["legacy"]} == {
        ("reviews-default", "prod"), ("reviews-cb", "bookinfo")}


def test_stdin(tmp_path: Path):
    result = run("-", input=ROUTE_RULE)
    assert result.exit_code == 1
    assert result.stdout == ("<stdin>:2:1: RouteRule default/reviews (config.istio.io/v1alpha2): "
                             "convert with: istiomigrate convert -\n")


def test_symlinks_leaving_the_root_are_not_followed(tmp_path: Path):
    outside = write(tmp_path / "outside" / "rr.yaml", ROUTE_RULE)
    tree = tmp_path / "tree"
    inside = write(tree / "real" / "rr.yaml", ROUTE_RULE)
    (tree / "escape.yaml").symlink_to(outside)
    (tree / "alias").symlink_to(inside.parent, target_is_directory=True)
    files = {Path(e["file"]).relative_to(tree).as_posix() for e in as_json(str(tree))["legacy"]}
    assert files == {"real/rr.yaml"}  # alias/ reaches the same real file: read once


# --------------------------------------------------------------------------- formats


TEXT_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<kind>\w+) (?P<ns>[^/ ]+)/(?P<name>\S+) "
    r"\((?P<api>[^)]*)\): convert with: istiomigrate convert (?P<target>\S+)$"
)


def test_text_format_one_line_per_resource_and_summary_on_stderr():
    result = run(f"{LEGACY}/apps", f"{LEGACY}/json")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert {(m["kind"], m["ns"], m["name"], m["file"], int(m["line"]), int(m["col"]))
            for m in parsed} == {e for e in EXPECTED_LEGACY if "/helm/" not in e[3]
                                 and "/ingress/" not in e[3]}
    assert all(m["target"] == m["file"] for m in parsed)
    assert "\033" not in result.stdout  # not a terminal: no colour
    assert result.stderr.strip().splitlines()[-1] == (
        "istiomigrate check: 6 legacy resources (2 DestinationPolicy, 1 EgressRule, "
        "3 RouteRule) in 4 of 4 files; convert with istiomigrate convert")


def test_json_format_is_the_documented_object():
    data = as_json(LEGACY)
    assert set(data) == {"version", "legacy", "warnings", "summary"}
    assert data["version"] == 1
    for entry in data["legacy"]:
        assert set(entry) == {"kind", "apiVersion", "namespace", "name", "file", "line",
                              "column", "unparsed", "convert"}
    (warning,) = data["warnings"]
    assert set(warning) == {"code", "severity", "message", "kind", "namespace", "name", "file",
                            "line", "column"}
    assert (warning["code"], warning["file"]) == (
        "unparsed-file", f"{LEGACY}/helm/templates/deployment.yaml")
    assert data["summary"] == {
        "files": LEGACY_FILES, "legacy": 8, "unparsed": 1, "warnings": 1,
        "byKind": {"DestinationPolicy": 2, "EgressRule": 1, "Ingress": 1, "RouteRule": 4},
        "strict": False, "failed": True,
    }


GITHUB_LINE = re.compile(
    r"^::(?P<cmd>error|warning) file=(?P<file>[^,]*),line=(?P<line>\d+),col=(?P<col>\d+),"
    r"title=(?P<title>[^:]*)::(?P<message>.*)$"
)


def _unescape(value: str) -> str:
    for code, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(code, char)
    return value


def test_github_format_annotates_file_and_line():
    result = run(LEGACY, "--format", "github")
    assert result.exit_code == 1
    parsed = [GITHUB_LINE.match(line) for line in result.stdout.splitlines()]
    assert all(parsed), result.stdout
    errors = {(_unescape(m["file"]), int(m["line"]), int(m["col"]))
              for m in parsed if m["cmd"] == "error"}
    assert errors == {(e[3], e[4], e[5]) for e in EXPECTED_LEGACY}
    warnings = [m for m in parsed if m["cmd"] == "warning"]
    assert [_unescape(m["file"]) for m in warnings] == [f"{LEGACY}/helm/templates/deployment.yaml"]
    assert all(_unescape(m["title"]).startswith("Legacy Istio ")
               for m in parsed if m["cmd"] == "error")


def test_github_escaping_of_properties_and_message(tmp_path: Path):
    path = write(tmp_path / "odd,name:100%.yaml", ROUTE_RULE)
    result = run(str(path), "--format", "github")
    (line,) = result.stdout.splitlines()
    match = GITHUB_LINE.match(line)
    assert match, line
    assert "odd%2Cname%3A100%25.yaml" in match["file"]
    assert _unescape(match["file"]) == str(path)
    assert "%25" in match["message"] and "," not in match["file"]
    assert check_output.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert check_output.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"


def test_junit_one_testcase_per_file_and_a_failure_per_resource(tmp_path: Path):
    out = tmp_path / "report.xml"
    result = run(LEGACY, f"{FIXTURES}/clean", "--format", "junit", "--output", str(out))
    assert result.exit_code == 1
    assert result.stdout == ""
    suite = ET.parse(out).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "istiomigrate-check"
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert len(cases) == LEGACY_FILES + 2 == int(suite.get("tests"))
    failures = {name: len(case.findall("failure")) for name, case in cases.items()}
    assert failures[ROUTING] == 2
    assert failures[f"{LEGACY}/json/list.json"] == 2
    assert failures[f"{FIXTURES}/clean/apps/productpage.yaml"] == 0
    assert sum(failures.values()) == len(EXPECTED_LEGACY) == int(suite.get("failures"))
    helm = cases[f"{LEGACY}/helm/templates/deployment.yaml"]
    assert "not valid YAML" in helm.findtext("system-out")
    assert not list(tmp_path.glob(".report.xml.*"))  # atomic write leaves no temp file


def test_junit_is_well_formed_whatever_the_names(tmp_path: Path):
    write(tmp_path / "ctl.yaml", "kind: RouteRule\nmetadata:\n  name: a\x01<&\n")
    root = ET.fromstring(run(str(tmp_path), "--format", "junit").stdout)
    assert root.find(".//failure").get("message") == "legacy RouteRule default/a\ufffd<&"


def test_junit_to_stdout_and_strict_warnings_are_failures():
    template = f"{LEGACY}/helm/templates/deployment.yaml"
    plain = ET.fromstring(run(template, "--format", "junit").stdout)
    strict = ET.fromstring(run(template, "--format", "junit", "--strict").stdout)
    assert plain.find("testsuite").get("failures") == "0"
    assert strict.find("testsuite").get("failures") == "1"
    assert [f.get("type") for f in strict.iter("failure")] == ["warning:unparsed-file"]


def test_output_file_for_text_and_json(tmp_path: Path):
    out = tmp_path / "listing.json"
    result = run(ROUTING, "--format", "json", "--output", str(out))
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["summary"]["legacy"] == 2


def test_entries_without_a_file_fit_every_format():
    """Resources read from a cluster (a later --from-cluster) have no file, line or column."""
    from istiomigrate.check.find import CheckResult, LegacyEntry, Location

    entry = LegacyEntry("RouteRule", "config.istio.io/v1alpha2", "prod", "reviews", Location(),
                        source="cluster", convert="istiomigrate convert --from-cluster")
    result = CheckResult(sources=["cluster"], legacy=[entry])
    assert check_output.render(result, "text") == (
        "cluster: RouteRule prod/reviews (config.istio.io/v1alpha2): "
        "convert with: istiomigrate convert --from-cluster\n")
    (legacy,) = json.loads(check_output.render(result, "json"))["legacy"]
    assert (legacy["file"], legacy["line"], legacy["column"]) == (None, None, None)
    github = check_output.render(result, "github")
    assert github.startswith("::error title=Legacy Istio RouteRule::cluster: RouteRule prod/")
    case = ET.fromstring(check_output.render(result, "junit")).find("testsuite/testcase")
    assert (case.get("name"), case.get("file"), len(case.findall("failure"))) == (
        "cluster", None, 1)


# --------------------------------------------------------------------------- exit codes


def test_exit_2_for_a_missing_path_with_nothing_on_stdout():
    result = run(ROUTING, "no/such/dir")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no/such/dir: no such file or directory" in result.stderr


def test_exit_2_for_input_that_is_not_utf8(tmp_path: Path):
    bad = tmp_path / "tree" / "latin1.yaml"
    bad.parent.mkdir()
    bad.write_bytes(b"kind: RouteRule\nmetadata:\n  name: caf\xe9\n")
    result = run(str(tmp_path / "tree"))
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr and result.stdout == ""
    assert run("-", input=b"\xff\xfe").exit_code == 2


def test_exit_2_for_a_bad_invocation():
    assert run(ROUTING, "--format", "xml").exit_code == 2
    assert run().exit_code == 2
    assert run(ROUTING, "--output", FIXTURES).exit_code == 2  # a directory


def test_warnings_alone_exit_0_unless_strict():
    injected = f"{FIXTURES}/injection"
    assert run(injected, "--injection").exit_code == 0
    assert run(injected, "--injection", "--strict").exit_code == 1
    assert run(f"{FIXTURES}/clean", "--strict").exit_code == 0


# --------------------------------------------------------------------------- injection


def test_injection_flags_a_kube_injected_deployment():
    data = as_json(f"{FIXTURES}/injection", "--injection")
    assert data["legacy"] == []
    (warning,) = data["warnings"]
    assert (warning["code"], warning["kind"], warning["namespace"], warning["name"]) == (
        "manual-injection", "Deployment", "bookinfo", "reviews-v1")
    assert (warning["file"], warning["line"], warning["column"]) == (
        f"{FIXTURES}/injection/reviews-injected.yaml", 3, 1)
    assert "istio-injection=enabled" in warning["message"]
    assert "rolling restart" in warning["message"]


def test_injection_is_off_by_default():
    result = run(f"{FIXTURES}/injection")
    assert (result.exit_code, result.stdout, "warning" in result.stderr) == (0, "", False)


@pytest.mark.parametrize("kind", ["Pod", "CronJob", "StatefulSet"])
def test_injection_by_status_annotation_alone(tmp_path: Path, kind: str):
    template = {"metadata": {"annotations": {"sidecar.istio.io/status": "{}"}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]}}
    if kind == "Pod":
        spec, meta = template["spec"], {"name": "p", **template["metadata"]}
    elif kind == "CronJob":
        spec, meta = {"jobTemplate": {"spec": {"template": template}}}, {"name": "p"}
    else:
        spec, meta = {"template": template}, {"name": "p"}
    doc = {"apiVersion": "v1", "kind": kind, "metadata": meta, "spec": spec}
    write(tmp_path / "w.yaml", yaml.safe_dump(doc))
    data = as_json(str(tmp_path), "--injection")
    assert [(w["kind"], w["name"]) for w in data["warnings"]] == [(kind, "p")]


def test_injection_warning_in_text_goes_to_stderr():
    result = run(f"{FIXTURES}/injection", "--injection")
    assert result.stdout == ""
    assert re.search(r"reviews-injected\.yaml:3:1: warning: Deployment bookinfo/reviews-v1",
                     result.stderr)


# --------------------------------------------------------------------------- colour


class _Tty:
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color():
    assert check_output.use_colour(_Tty(), {}) is True
    assert check_output.use_colour(_Tty(), {"NO_COLOR": "1"}) is False
    assert check_output.use_colour(_Tty(), {"TERM": "dumb"}) is False
    assert check_output.use_colour(sys.stdout, {}) is sys.stdout.isatty()


# --------------------------------------------------------------------------- processes


def _module_command() -> list[str]:
    return [sys.executable, "-m", "istiomigrate"]


def test_a_closed_pipe_keeps_the_exit_code(tmp_path: Path):
    """``check . | head``: more output than a pipe buffer, and a reader that leaves early."""
    write(tmp_path / "many.yaml", "---\n".join(ROUTE_RULE.replace("reviews", f"r{i}")
                                               for i in range(2000)))
    reader = shlex.join([sys.executable, "-c", "import os; os.read(0, 1)"])
    command = f"{shlex.join(_module_command())} check {tmp_path} | {reader}"
    done = subprocess.run(["bash", "-c", command + "; exit ${PIPESTATUS[0]}"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr


class _ClosedPipe:
    """A stdout whose reader has gone: every write fails with EPIPE."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        return self.fd


def test_broken_pipe_is_handled_without_an_exception(tmp_path, monkeypatch):
    from istiomigrate.cli import check as check_command

    with open(tmp_path / "out", "w") as target:
        monkeypatch.setattr(sys, "stdout", _ClosedPipe(target.fileno()))
        check_command._write("listing\n", None)  # must not raise


def test_subprocess_python_m_exit_codes_and_json():
    done = subprocess.run([*_module_command(), "check", f"{LEGACY}/json", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert len(json.loads(done.stdout)["legacy"]) == 3
    clean = subprocess.run([*_module_command(), "check", f"{FIXTURES}/clean"],
                           capture_output=True, text=True, cwd=ROOT, check=False)
    assert (clean.returncode, clean.stdout) == (0, "")
    missing = subprocess.run([*_module_command(), "check", "missing.yaml"],
                             capture_output=True, text=True, cwd=ROOT, check=False)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_check_start_up_stays_light():
    """check imports neither the kubernetes client, jsonschema nor rich (not on a terminal)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "istiomigrate", "check",
                           LEGACY, "--injection", "--format", "junit"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 1
    imported = {line.split("|")[-1].strip().split(".")[0]
                for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "istiomigrate" in imported
    assert imported.isdisjoint({"kubernetes", "jsonschema", "rich"}), imported


def test_check_modules_do_not_import_pydantic():
    """typer itself may import pydantic to coerce options; check's own code must not."""
    code = (
        "import sys\n"
        "from istiomigrate.check import find as check, formats as check_output\n"
        f"r = check.check_paths([{LEGACY!r}], check.CheckOptions(injection=True))\n"
        "for f in check_output.FORMATS: check_output.render(r, f)\n"
        "heavy = {'pydantic', 'jsonschema', 'kubernetes', 'rich'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_pre_commit_hook_entry_fails_on_a_legacy_file():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "istiomigrate-check"]
    assert (hook["language"], hook["pass_filenames"]) == ("python", True)
    files = re.compile(hook["files"])
    assert all(files.search(n) for n in ("a.yaml", "b/c.yml", "d.json"))
    assert not any(files.search(n) for n in ("a.txt", "yaml.py", "x.yaml.orig"))
    argv = shlex.split(hook["entry"])
    assert argv[0] == "istiomigrate"
    if shutil.which(argv[0]) is None:
        argv[:1] = _module_command()
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run([*argv, ROUTING, f"{FIXTURES}/clean/apps/productpage.yaml"],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == [
        f"{ROUTING}:14:1: RouteRule default/reviews-default (config.istio.io/v1alpha2): "
        f"convert with: istiomigrate convert {ROUTING}",
        f"{ROUTING}:26:1: DestinationPolicy bookinfo/reviews-cb (config.istio.io/v1alpha2): "
        f"convert with: istiomigrate convert {ROUTING}",
    ]


# --------------------------------------------------------------------------- robustness

_FRAGMENTS = ["kind: RouteRule\n", "kind: Ingress\n", "apiVersion: config.istio.io/v1alpha2\n",
              "metadata:\n", "  name: x\n", "---\n", "{{ .Values.x }}\n", "- kind: List\n",
              "items:\n", '{"kind": "EgressRule",', "  kubernetes.io/ingress.class: istio\n",
              "name: istio-proxy\n", "sidecar.istio.io/status: x\n", "\t", ": ", "[", "&a ", "*a\n",
              "  name: a\x01<&\n"]


def test_any_text_gives_a_result_never_an_exception():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from istiomigrate.check.find import CheckOptions, check_text

    texts = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=8), max_size=25).map("".join)

    @settings(max_examples=300, deadline=None)
    @given(texts)
    def run_on(text: str) -> None:
        result = check_text("f.yaml", text, CheckOptions(injection=True))
        for fmt in check_output.FORMATS:
            check_output.render(result, fmt)
        ET.fromstring(check_output.render(result, "junit"))  # well-formed XML, always

    run_on()
