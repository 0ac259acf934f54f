"""Modern Istio's output as a strict API server sees it (docs/semantics.md §8).

Every fixture case and every Istio pair of ``../shared/istio-pairs`` converted
with ``--target 1.30`` is checked by ``../shared/tools/crd-validate.py``
against Istio 1.30.3's published CRDs (structural schema and CEL rules): no
error, and no deprecated field, since a deprecated field is one release away
from being pruned. Skipped with a reason where ``../shared`` is absent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from istiomigrate import targets
from istiomigrate.emit import yaml_stream
from istiomigrate.options import Options
from istiomigrate.pipeline import run
from istiomigrate.read.inventory import read_paths
from tests.helpers import FIXTURES, SHARED, codes, convert_paths

VALIDATOR = SHARED / "tools" / "crd-validate.py"
PAIRS = sorted((SHARED / "istio-pairs").glob("*/in"))
needs_shared = pytest.mark.skipif(not VALIDATOR.is_file(),
                                  reason=f"{VALIDATOR} is absent (the team's shared folder)")


def _case_options() -> list[tuple[str, dict]]:
    """Each expectation's options, for target 1.30: every variant the fixtures convert with."""
    out = []
    for expect in sorted((FIXTURES / "cases").glob("*/expect*.yaml")):
        options = {**(yaml.safe_load(expect.read_text()).get("options") or {}), "target": "1.30"}
        if "ingress_gateway_selector" in options:
            options["ingress_gateway_selector"] = tuple(
                tuple(pair) for pair in options["ingress_gateway_selector"])
        out.append((f"{expect.parent.name}/{expect.stem}", options))
    return out


def _validate(streams: dict[str, str], tmp_path: Path) -> list[dict]:
    """crd-validate's JSON result per document of the named YAML streams."""
    files = []
    for name, text in streams.items():
        path = tmp_path / (name.replace("/", "__") + ".yaml")
        path.write_text(text)
        files.append(str(path))
    done = subprocess.run([sys.executable, str(VALIDATOR), "--require-crd", "--format", "json",
                           *files], capture_output=True, text=True, check=False, timeout=300)
    results: list[dict] = json.loads(done.stdout)["results"]
    assert len(results) >= len(files), done.stderr
    return results


def _problems(results: list[dict]) -> list[str]:
    return [f"{r['file']}#{r['index']} {r['kind']} {r['name']}: {r['errors'] + r['deprecated']}"
            for r in results if r["errors"] or r["deprecated"]]


@needs_shared
def test_every_fixture_case_is_valid_on_istio_1_30(tmp_path: Path) -> None:
    streams = {}
    for name, options in _case_options():
        inventory = read_paths([str(FIXTURES / "cases" / name.split("/")[0] / "input.yaml")],
                               default_namespace=options.get("default_namespace", "default"))
        result = run(inventory, Options(**options))
        assert "IM307" not in codes(result), name
        streams[name] = yaml_stream(result.conversion.resources)
    assert _problems(_validate(streams, tmp_path)) == []


@needs_shared
@pytest.mark.skipif(not PAIRS, reason="no Istio pairs in ../shared/istio-pairs")
def test_istio_pairs_are_valid_on_istio_1_30(tmp_path: Path) -> None:
    streams = {}
    for pair in PAIRS:
        docs, result = convert_paths([pair], target="1.30")
        assert "IM307" not in codes(result), pair
        streams[pair.parent.name] = yaml.safe_dump_all(docs)
    results = _validate(streams, tmp_path)
    assert results and _problems(results) == []


@pytest.mark.parametrize("version", ["1.22", "1.26", "1.30", "latest"])
def test_every_modern_version_writes_v1(version: str) -> None:
    docs, _ = convert_paths([FIXTURES / "cases" / "http-actions" / "input.yaml"], target=version)
    assert {d["apiVersion"] for d in docs} == {"networking.istio.io/v1"}
    assert targets.for_version(version) is targets.for_version("latest")


@pytest.mark.parametrize("case", sorted((FIXTURES / "cases").glob("*ingress*/input.yaml")),
                         ids=lambda p: p.parent.name)
def test_the_ingress_gateway_routes_as_on_1_0(case: Path) -> None:
    """Modern gateways mean what 1.0's did: same servers, certificate, hosts and routes (the
    pinned ``retries: {attempts: 0}`` reads back as legacy's "no retries")."""
    old, _ = convert_paths([case], target="1.0")
    new, _ = convert_paths([case], target="1.30")
    assert targets.for_version("1.30").meaning(new, "cluster.local").get("gateways") == \
        targets.for_version("1.0").meaning(old, "cluster.local").get("gateways")


def test_accepted_gateway_defaults_read_back_as_retries() -> None:
    case = FIXTURES / "cases" / "modern-ingress" / "input.yaml"
    old, _ = convert_paths([case], target="1.0")
    new, _ = convert_paths([case], target="1.30", accept_target_defaults=True)
    assert targets.for_version("1.30").meaning(new, "cluster.local")["gateways"] != \
        targets.for_version("1.0").meaning(old, "cluster.local")["gateways"]


def test_versions_between_1_0_and_1_22_are_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.22.*latest"):
        targets.for_version("1.12")


def test_the_cli_names_the_supported_versions_when_refusing_one() -> None:
    from typer.testing import CliRunner

    from istiomigrate.cli import app

    result = CliRunner().invoke(app, ["convert", "--target", "1.12", "-"], input="")
    assert result.exit_code == 2
    assert "1.12" in result.output and "1.22" in result.output and "latest" in result.output


def test_convert_verify_refuses_a_target_without_a_simulator() -> None:
    from typer.testing import CliRunner

    from istiomigrate.cli import app

    case = str(FIXTURES / "cases" / "modern-routes" / "input.yaml")
    result = CliRunner().invoke(app, ["convert", "--verify", "--target", "1.30", case])
    assert result.exit_code == 2
    assert "has no simulator" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("flag, pinned", [([], True), (["--accept-target-defaults"], False)])
def test_accept_target_defaults_on_the_command_line(flag: list[str], pinned: bool) -> None:
    from typer.testing import CliRunner

    from istiomigrate.cli import app

    case = str(FIXTURES / "cases" / "modern-policies" / "input.yaml")
    result = CliRunner().invoke(app, ["convert", "--target", "latest", *flag, case])
    assert result.exit_code == 0, result.output
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    text = json.dumps(docs)
    assert ('"attempts": 0' in text) is pinned
    assert ('"minHealthPercent": 50' in text) is pinned
    assert ("IM120" in result.stderr) is not pinned


@pytest.mark.parametrize("flag, skip", [([], False), (["--insecure-skip-verify"], True)])
def test_insecure_skip_verify_on_the_command_line(flag: list[str], skip: bool) -> None:
    from typer.testing import CliRunner

    from istiomigrate.cli import app

    case = str(FIXTURES / "cases" / "modern-egress" / "input.yaml")
    result = CliRunner().invoke(app, ["convert", "--target", "1.30", *flag, case])
    assert result.exit_code == 0, result.output
    assert ("insecureSkipVerify: true" in result.stdout) is skip
    assert ("IM230" in result.stderr) is not skip
