"""Synthetic manifest trees for the benchmarks.

The shape mimics a large GitOps repository: one directory per namespace,
files of ~30 documents, mostly Deployments and Services of realistic size
(30-60 lines), with legacy RouteRules and DestinationPolicies for thousands
of hosts sprinkled among them. Generation is deterministic for a seed, so
timings of ``check`` and ``convert`` are comparable from run to run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TreeStats:
    """What was written: enough for a benchmark to report documents per second."""

    files: int
    documents: int
    legacy: int
    bytes: int


def generate_tree(
    root: Path,
    files: int = 1000,
    docs_per_file: int = 30,
    legacy_fraction: float = 0.01,
    namespaces: int = 20,
    seed: int = 0,
) -> TreeStats:
    """Write ``files`` manifest files of ``docs_per_file`` documents under ``root``.

    Exactly ``round(files * docs_per_file * legacy_fraction)`` documents are
    legacy (RouteRule or DestinationPolicy, alternately), placed at random;
    the others alternate between Deployments and Services. Hosts are
    ``svc-<n>`` so a large tree routes thousands of distinct hosts.
    """
    rng = random.Random(seed)
    root = Path(root)
    total = files * docs_per_file
    legacy_slots = set(rng.sample(range(total), round(total * legacy_fraction)))
    written = 0
    for f in range(files):
        namespace = f"ns-{f % namespaces:02d}"
        folder = root / namespace / f"team-{(f // namespaces) % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        docs = []
        for d in range(docs_per_file):
            slot = f * docs_per_file + d
            docs.append(_document(rng, slot, namespace, slot in legacy_slots))
        text = "---\n".join(docs)
        (folder / f"app-{f:05d}.yaml").write_text(text, encoding="utf-8")
        written += len(text.encode("utf-8"))
    return TreeStats(files, total, len(legacy_slots), written)


def _document(rng: random.Random, slot: int, namespace: str, legacy: bool) -> str:
    host = f"svc-{slot % 5000}"
    if legacy:
        return (_route_rule if slot % 2 else _destination_policy)(rng, host, namespace, slot)
    return (_deployment if slot % 2 else _service)(rng, host, namespace, slot)


def _deployment(rng: random.Random, host: str, namespace: str, slot: int) -> str:
    replicas = rng.randint(1, 6)
    cpu = rng.choice(("100m", "250m", "500m"))
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {host}-v{slot % 3 + 1}
  namespace: {namespace}
  labels:
    app: {host}
    version: v{slot % 3 + 1}
    team: team-{slot % 17}
  annotations:
    deployment.kubernetes.io/revision: "{rng.randint(1, 40)}"
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {host}
      version: v{slot % 3 + 1}
  template:
    metadata:
      labels:
        app: {host}
        version: v{slot % 3 + 1}
    spec:
      serviceAccountName: {host}
      containers:
      - name: {host}
        image: registry.example.com/{namespace}/{host}:1.{rng.randint(0, 99)}.{rng.randint(0, 9)}
        imagePullPolicy: IfNotPresent
        ports:
        - containerPort: 9080
          name: http
        env:
        - name: LOG_LEVEL
          value: info
        - name: UPSTREAM
          value: http://svc-{rng.randint(0, 4999)}.{namespace}.svc.cluster.local:9080
        resources:
          requests:
            cpu: {cpu}
            memory: 128Mi
          limits:
            cpu: "1"
            memory: 512Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: 9080
          initialDelaySeconds: 5
          periodSeconds: 10
        livenessProbe:
          httpGet:
            path: /healthz
            port: 9080
          initialDelaySeconds: 15
"""


def _service(rng: random.Random, host: str, namespace: str, slot: int) -> str:
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {host}
  namespace: {namespace}
  labels:
    app: {host}
    team: team-{slot % 17}
    tier: {rng.choice(("frontend", "backend", "data"))}
  annotations:
    prometheus.io/scrape: "true"
    prometheus.io/port: "9080"
    prometheus.io/path: /metrics
    owner: team-{slot % 17}@example.com
spec:
  type: ClusterIP
  selector:
    app: {host}
  sessionAffinity: None
  ports:
  - name: http
    port: 9080
    targetPort: 9080
    protocol: TCP
  - name: grpc
    port: 9090
    targetPort: 9090
    protocol: TCP
  - name: http-metrics
    port: 15090
    targetPort: 15090
    protocol: TCP
  - name: tcp-admin
    port: 8081
    targetPort: {rng.choice((8081, 8082))}
    protocol: TCP
"""


def _route_rule(rng: random.Random, host: str, namespace: str, slot: int) -> str:
    weight = rng.choice((10, 25, 50))
    return f"""apiVersion: config.istio.io/v1alpha2
kind: RouteRule
metadata:
  name: {host}-canary-{slot}
  namespace: {namespace}
  labels:
    app: {host}
spec:
  destination:
    name: {host}
    namespace: {namespace}
  precedence: {rng.randint(1, 5)}
  match:
    source:
      name: svc-{rng.randint(0, 4999)}
      labels:
        version: v1
    request:
      headers:
        cookie:
          regex: "^(.*?;)?(user=jason)(;.*)?$"
  route:
  - labels:
      version: v1
    weight: {100 - weight}
  - labels:
      version: v2
    weight: {weight}
  httpReqTimeout:
    simpleTimeout:
      timeout: {rng.randint(1, 10)}s
  httpReqRetries:
    simpleRetry:
      attempts: {rng.randint(1, 5)}
      perTryTimeout: 2s
  httpFault:
    delay:
      percent: 10
      fixedDelay: 5s
"""


def _destination_policy(rng: random.Random, host: str, namespace: str, slot: int) -> str:
    return f"""apiVersion: config.istio.io/v1alpha2
kind: DestinationPolicy
metadata:
  name: {host}-cb-{slot}
  namespace: {namespace}
  labels:
    app: {host}
    team: team-{slot % 17}
  annotations:
    owner: team-{slot % 17}@example.com
    ticket: OPS-{rng.randint(1000, 9999)}
spec:
  destination:
    name: {host}
    namespace: {namespace}
    labels:
      version: v{slot % 3 + 1}
  loadBalancing:
    name: {rng.choice(("ROUND_ROBIN", "LEAST_CONN", "RANDOM"))}
  circuitBreaker:
    simpleCb:
      maxConnections: {rng.choice((100, 1000))}
      httpMaxPendingRequests: {rng.choice((10, 100))}
      httpMaxRequests: 1000
      sleepWindow: 15m
      httpDetectionInterval: 5m
      httpConsecutiveErrors: {rng.randint(1, 10)}
      httpMaxEjectionPercent: 100
      httpMaxRequestsPerConnection: 1
"""
