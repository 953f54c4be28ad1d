"""The OpenAPI 3.1 description of the read-only API, served at ``GET /api/openapi.json`` and written to
docs/api-openapi.yaml by `heimdall api openapi --write` (a test checks the committed file is current)."""

from __future__ import annotations

from typing import Any

import yaml

from insights.ask.compiler import EXAMPLES
from insights.ask.intents import INTENTS
from insights.ask.parse import MAX_QUESTION_CHARS

_ERROR = {"$ref": "#/components/schemas/Error"}
_REFUSAL = {"$ref": "#/components/schemas/Refusal"}
_ANSWER = {"$ref": "#/components/schemas/Answer"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def openapi_document(max_body_bytes: int = 256 * 1024) -> dict[str, Any]:
    """The API's OpenAPI document (``max_body_bytes``: the body cap it states)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Heimdall read-only API",
            "version": "1.0.0",
            "description": (
                "Guarded Ask: delivery questions in plain language, answered only through allowlisted, "
                "parameterised SQL templates over the marts, run as a read-only role in a read-only "
                "transaction "
                "(docs/ask.md). Nothing in this API writes."
            ),
        },
        "servers": [
            {"url": "http://127.0.0.1:8600", "description": "`heimdall api serve` (HEIMDALL_API_PORT)"}
        ],
        "paths": {
            "/api/health": {
                "get": {
                    "summary": "Whether the API can read the marts",
                    "operationId": "health",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "status": {"const": "ok"},
                                    "database": {"const": "ok"},
                                    "as_of": {"type": "string", "format": "date"},
                                    "teams": {"type": "integer"},
                                },
                                "required": ["status"],
                            },
                            "The marts are readable; `as_of` is the warehouse's today (periods are relative "
                            "to it).",
                        ),
                        "503": _json(_ERROR, "The warehouse cannot be read."),
                    },
                }
            },
            "/api/ask": {
                "post": {
                    "summary": "Answer a question through one allowlisted SQL template",
                    "operationId": "ask",
                    "requestBody": {
                        "required": True,
                        "description": (
                            f"At most {max_body_bytes} bytes; the question at most {MAX_QUESTION_CHARS} "
                            "characters."
                        ),
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "question": {"type": "string", "examples": list(EXAMPLES[:3])}
                                    },
                                    "required": ["question"],
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            _ANSWER, "Answered: the intent, the parameters as understood, the SQL, the rows."
                        ),
                        "400": _json(_ERROR, "Not a JSON object with a string `question`."),
                        "413": _json(_ERROR, f"The body is larger than {max_body_bytes} bytes."),
                        "422": _json(_REFUSAL, "Refused: why, the parameter at fault, example questions."),
                        "503": _json(
                            _ERROR, "The warehouse cannot answer now (unreachable, not built, timeout)."
                        ),
                    },
                }
            },
            "/api/recommendations": {
                "get": {
                    "summary": "Current recommendations and their status (the `recommendations` intent)",
                    "operationId": "recommendations",
                    "parameters": [
                        {"name": "team", "in": "query", "required": False, "schema": {"type": "string"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                        },
                    ],
                    "responses": {
                        "200": _json(_ANSWER, "The recommendations, ranked."),
                        "422": _json(_REFUSAL, "An unknown team or a limit outside 1-100."),
                        "503": _json(_ERROR, "The warehouse cannot answer now."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": {"description": "The OpenAPI document."}},
                }
            },
        },
        "components": {
            "schemas": {
                "Answer": {
                    "type": "object",
                    "properties": {
                        "status": {"const": "answered"},
                        "question": {"type": "string"},
                        "intent": {"enum": [intent.name for intent in INTENTS]},
                        "title": {"type": "string"},
                        "parameters": {
                            "type": "object",
                            "description": "team, period, limit, issue_key, metric",
                        },
                        "sql": {"type": "string", "description": "The template that ran, verbatim."},
                        "bound": {"type": "object", "description": "The values bound to the template."},
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "rows": {"type": "array", "items": {"type": "object"}},
                        "row_count": {"type": "integer"},
                        "truncated": {"type": "boolean"},
                        "reading": {"type": "string", "description": "One-line plain reading of the rows."},
                    },
                    "required": [
                        "status",
                        "intent",
                        "parameters",
                        "sql",
                        "bound",
                        "columns",
                        "rows",
                        "reading",
                    ],
                },
                "Refusal": {
                    "type": "object",
                    "properties": {
                        "status": {"const": "refused"},
                        "question": {"type": "string"},
                        "reason": {"type": "string"},
                        "parameter": {
                            "type": ["string", "null"],
                            "description": "question, team, period, limit, issue_key or metric",
                        },
                        "candidates": {"type": "array", "items": {"type": "string"}},
                        "examples": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["status", "reason", "examples"],
                },
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "string"}},
                    "required": ["error"],
                },
            }
        },
    }


def openapi_yaml() -> str:
    header = (
        "# Generated by `heimdall api openapi --write` from heimdall/api/openapi.py: do not edit by hand.\n"
    )
    return header + yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True, width=110)
