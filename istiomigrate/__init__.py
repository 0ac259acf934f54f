"""istiomigrate: convert Istio v1alpha1 routing config to the v1alpha3 networking API."""

__version__ = "0.1.0"
