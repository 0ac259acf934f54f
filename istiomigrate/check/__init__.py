"""``istiomigrate check``: find the legacy resources left (``find``) and list them (``formats``).

Light on purpose: a CI gate runs on every push, so nothing here imports pydantic,
jsonschema, rich or the kubernetes client.
"""
