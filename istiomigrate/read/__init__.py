"""Read step: manifests and clusters into an inventory of the resources that matter.

``inputs`` finds and reads files, directories and stdin; ``documents`` splits text into
documents without losing a byte; ``inventory`` parses the documents that can matter into
an ``Inventory`` (legacy resources as the typed models of ``legacy`` and ``ingress``,
Services via ``services``, existing networking resources). This package's own top level
stays empty so that ``check`` can use ``inputs`` and ``documents`` without pydantic.
"""
