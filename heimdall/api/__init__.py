"""Heimdall's read-only HTTP API (Starlette/uvicorn, `heimdall api serve`): Guarded Ask and the
recommendations, described by an OpenAPI document (docs/ask.md)."""
