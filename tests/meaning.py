"""What converted config means: the plan's normal form, read back by the target.

A thin alias so that tests say ``meaning(docs)``; the reading itself is the
target's (``istiomigrate/targets/istio/meaning.py``), and its vocabulary is
the plan's normal form (``istiomigrate/plan/normal.py``).
"""

from __future__ import annotations

from istiomigrate.targets.istio.meaning import CLUSTER_DOMAIN, MissingSubset, fqdn, meaning

__all__ = ["CLUSTER_DOMAIN", "MissingSubset", "fqdn", "meaning"]
