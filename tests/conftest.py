"""Shared pytest configuration: registers the fake Kubernetes API server fixtures."""

pytest_plugins = ["tests.fakekube.fixture"]
