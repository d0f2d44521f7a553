"""OpenAPI additions for the ingest endpoints, which are plain async Django views (not DRF)
so that parsing overlaps with database writes. drf-spectacular calls this as a postprocessing hook.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension

ERROR = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "item": {"type": "string", "description": "the bad item, e.g. series[3].points[17]"},
    },
    "required": ["error"],
}
INGEST_RESULT = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer", "description": "samples newly stored"},
        "duplicates": {"type": "integer", "description": "samples already stored (re-sent batches)"},
        "series": {"type": "integer"},
        "skipped": {"type": "integer", "description": "remote_write only: NaN/staleness samples skipped"},
    },
    "required": ["accepted", "duplicates", "series"],
}
INGEST_BODY = {
    "type": "object",
    "required": ["series"],
    "properties": {
        "series": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["metric", "points"],
                "properties": {
                    "metric": {"type": "string", "example": "cpu_usage"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "unit": {"type": "string", "example": "percent"},
                    "points": {
                        "type": "array",
                        "description": "[timestamp, value] pairs; timestamp in unix seconds or RFC 3339",
                        "items": {"type": "array", "minItems": 2, "maxItems": 2, "items": {}},
                    },
                },
            },
        }
    },
}


def _responses() -> dict:
    def error(description: str) -> dict:
        return {"description": description, "content": {"application/json": {"schema": ERROR}}}

    return {
        "200": {"description": "stored", "content": {"application/json": {"schema": INGEST_RESULT}}},
        "400": error("invalid batch; nothing written"),
        "401": error("missing or invalid token"),
        "403": error("token lacks the ingest scope"),
        "413": error("more than 50,000 points or 10 MB"),
        "503": error("database unavailable; retry after Retry-After seconds"),
    }


def add_ingest_paths(result, generator, request, public):
    security = [{"bearerAuth": []}]
    result.setdefault("components", {}).setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http",
        "scheme": "bearer",
    }
    result["paths"]["/api/v1/ingest"] = {
        "post": {
            "operationId": "ingest_json",
            "summary": "Ingest samples (JSON)",
            "description": "All-or-nothing and idempotent: re-sending a batch counts duplicates.",
            "tags": ["ingest"],
            "security": security,
            "requestBody": {"required": True, "content": {"application/json": {"schema": INGEST_BODY}}},
            "responses": _responses(),
        }
    }
    result["paths"]["/api/v1/prom/write"] = {
        "post": {
            "operationId": "ingest_prometheus_remote_write",
            "summary": "Prometheus remote_write 1.0",
            "description": "Snappy block-compressed protobuf WriteRequest.",
            "tags": ["ingest"],
            "security": security,
            "requestBody": {
                "required": True,
                "content": {"application/x-protobuf": {"schema": {"type": "string", "format": "binary"}}},
            },
            "responses": {
                **_responses(),
                "415": {
                    "description": "a remote_write message other than 1.0 (e.g. 2.0): senders fall back",
                    "content": {"application/json": {"schema": ERROR}},
                },
            },
        }
    }
    return result


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.teams.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "an API token from create_api_token"}


API_ERROR = {
    "type": "object",
    "description": "`detail` for authentication, permission and not-found errors; for a 400, the name of "
    "each bad field (or `non_field_errors`) with its messages; `error` for state conflicts and outages.",
    "properties": {"detail": {"type": "string"}, "error": {"type": "string"}},
    "additionalProperties": True,
}
HTTP_METHODS = ("get", "put", "patch", "post", "delete")


def _error_codes(path: str, method: str, operation: dict) -> dict[str, str]:
    codes = {
        "401": "missing or invalid token",
        "403": "the token lacks the scope (or the user the role) this needs",
        "503": "database unavailable; retry after Retry-After seconds",
    }
    if operation.get("parameters") or operation.get("requestBody"):
        codes["400"] = "invalid input: each bad field named with its messages"
    if path.startswith("/api/v1/integrations/"):
        codes["413"] = "request body over HIVEOPS_INTAKE_MAX_BYTES (refused before authentication)"
    if "{" in path or any(_names_an_object(p) for p in operation.get("parameters", ())):
        codes["404"] = "no such object in your teams"
        if method == "post" and not path.endswith("}"):
            codes["409"] = "not possible in the object's current state"
    return codes


def _names_an_object(parameter: dict) -> bool:
    """A query parameter holding an id (e.g. `series=<uuid>`): an unknown one is a 404."""
    return parameter.get("in") == "query" and parameter.get("schema", {}).get("format") == "uuid"


def document_error_responses(result, generator, request, public):
    """Every operation documents the errors the API's views and exception handler can answer with.
    Responses an operation already declares are kept."""
    result.setdefault("components", {}).setdefault("schemas", {})["ApiError"] = API_ERROR
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in _error_codes(path, method, operation).items():
                responses.setdefault(code, {"description": description, "content": body})
    return result


class BlankableURLField(OpenApiSerializerFieldExtension):
    """A URLField of a `URLField(blank=True)` model field answers "" when unset, which is not a
    `uri`: document "a URL, or empty". (Read-only fields lose `allow_blank`, so ask the model.)"""

    target_class = "rest_framework.fields.URLField"

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        url = {"type": "string", "format": "uri"}
        if field.max_length:
            url["maxLength"] = field.max_length
        if not (field.allow_blank or _model_field_is_blank(field)):
            return url
        # No top-level type, so drf-spectacular adds no `format: uri` from the field's validators.
        return {"anyOf": [url, {"type": "string", "maxLength": 0}]}


def _model_field_is_blank(field) -> bool:
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    try:
        return bool(field.read_only and model and model._meta.get_field(field.source).blank)
    except Exception:  # not a model field (a property, a dotted source)
        return False


class LocalTimeField(OpenApiSerializerFieldExtension):
    """DRF writes a TimeField as "09:00:00", a local time without an offset; JSON Schema's `time`
    format requires one, so document the pattern instead."""

    target_class = "rest_framework.fields.TimeField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$", "example": "09:00:00"}
