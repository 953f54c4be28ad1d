"""Heimdall's command line and orchestration: the top layer, which nothing else imports.

Layers (enforced by the import contract in pyproject.toml, checked in ``make test``):
``warehouse`` (core) ← ``generator`` / ``connectors`` / ``insights`` ← ``heimdall``.
"""
