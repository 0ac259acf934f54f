"""pytest fixtures for the fake Kubernetes API server, plus helpers to run kubectl against it.

Loaded as a plugin from ``tests/conftest.py`` (``pytest_plugins``), so any test module can ask
for ``fake_kube`` / ``fake_kubeconfig`` / ``fake_kube_factory`` without importing them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakekube.server import FakeKube

__all__ = [
    "KUBECTL_SKIP_REASON",
    "fake_kube",
    "fake_kube_factory",
    "fake_kubeconfig",
    "kubectl_env",
    "kubectl_or_skip",
    "run_kubectl",
]

KUBECTL_SKIP_REASON = (
    "kubectl not found on PATH: the Google Cloud CLI's kubectl 1.32 checks the fake API server "
    "against a client nobody here wrote"
)


def kubectl_or_skip() -> str:
    """The path of ``kubectl``, or skip the calling test when it is not installed."""
    path = shutil.which("kubectl")
    if path is None:
        pytest.skip(KUBECTL_SKIP_REASON)
    return path


def kubectl_env(home: Path) -> dict[str, str]:
    """The environment for a kubectl run: HOME in a temp dir, no inherited KUBECONFIG.

    kubectl writes its discovery cache under ``$HOME/.kube/cache``; pointing HOME at a temp
    dir keeps that out of the real home, and dropping KUBECONFIG makes sure only the
    ``--kubeconfig`` we pass can name a cluster -- a test must never reach a real one.
    """
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(home)
    return env


def run_kubectl(
    kubeconfig: Path,
    *args: str,
    home: Path,
    timeout: float = 60,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``kubectl --kubeconfig KUBECONFIG ARGS...`` with a timeout; skip if no kubectl.

    With ``check`` a non-zero exit fails the test showing kubectl's stderr.
    """
    kubectl = kubectl_or_skip()
    result = subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        env=kubectl_env(home),
        timeout=timeout,
        input=stdin,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"kubectl {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


@pytest.fixture
def fake_kube() -> Iterator[FakeKube]:
    """A started :class:`FakeKube` with the default resource types; stopped after the test."""
    kube = FakeKube().start()
    try:
        yield kube
    finally:
        kube.stop()


@pytest.fixture
def fake_kube_factory() -> Iterator[Callable[..., FakeKube]]:
    """Make started servers with custom options (``missing=...``, ``token=...``).

    Every server made is stopped after the test.
    """
    started: list[FakeKube] = []

    def make(**kwargs: Any) -> FakeKube:
        kube = FakeKube(**kwargs).start()
        started.append(kube)
        return kube

    try:
        yield make
    finally:
        for kube in started:
            kube.stop()


@pytest.fixture
def fake_kubeconfig(fake_kube: FakeKube, tmp_path: Path) -> Path:
    """The path of a kubeconfig (in ``tmp_path``) whose current context is ``fake_kube``."""
    return fake_kube.kubeconfig(tmp_path / "kubeconfig")
