"""The JSON Schema of ``walstream status --json`` (``walstream status --json-schema`` prints it).

The shape monitoring code may rely on: ``schema_version`` changes only when a field is removed
or changes meaning. Kept apart from :mod:`.status`, which fills the document, so the contract
reads in one place.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1


def _nullable(kind: str | list[str]) -> dict[str, Any]:
    types = [kind] if isinstance(kind, str) else list(kind)
    return {"type": [*types, "null"]}


_LSN = {"type": "string", "pattern": r"^[0-9A-F]+/[0-9A-F]+$"}
_LSN_OR_NULL = {"anyOf": [_LSN, {"type": "null"}]}

#: The JSON Schema of ``walstream status --json`` (schema_version 1).
STATUS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "walstream status",
    "type": "object",
    "required": [
        "schema_version",
        "checked_at",
        "status",
        "exit_code",
        "problems",
        "server",
        "slot",
        "checkpoint",
        "warehouse",
    ],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "checked_at": {"type": "string", "format": "date-time"},
        "status": {"enum": ["ok", "warning", "critical"]},
        "exit_code": {"enum": [0, 1, 2]},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code", "message"],
                "properties": {
                    "severity": {"enum": ["warning", "critical"]},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
        "server": {
            "anyOf": [
                {"type": "null"},  # no --dsn: only the warehouse (and checkpoint) were read
                {
                    "type": "object",
                    "required": [
                        "version",
                        "version_num",
                        "database",
                        "in_recovery",
                        "is_writer",
                        "current_wal_lsn",
                    ],
                    "properties": {
                        "version": {"type": "string"},
                        "version_num": {"type": "integer"},
                        "database": {"type": "string"},
                        "in_recovery": {"type": "boolean"},
                        "is_writer": {"type": "boolean"},
                        "current_wal_lsn": _LSN,
                    },
                },
            ]
        },
        "slot": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": [
                        "name",
                        "plugin",
                        "slot_type",
                        "database",
                        "active",
                        "active_pid",
                        "restart_lsn",
                        "confirmed_flush_lsn",
                        "wal_status",
                        "safe_wal_size",
                        "inactive_since",
                        "invalidation_reason",
                        "retained_bytes",
                        "lag_bytes",
                        "lag_seconds",
                        "consumer",
                    ],
                    "properties": {
                        "name": {"type": "string"},
                        "plugin": _nullable("string"),
                        "slot_type": {"type": "string"},
                        "database": _nullable("string"),
                        "active": {"type": "boolean"},
                        "active_pid": _nullable("integer"),
                        "restart_lsn": _LSN_OR_NULL,
                        "confirmed_flush_lsn": _LSN_OR_NULL,
                        "wal_status": _nullable("string"),
                        "safe_wal_size": _nullable("integer"),
                        "inactive_since": _nullable("string"),
                        "invalidation_reason": _nullable("string"),
                        "retained_bytes": _nullable("integer"),
                        "lag_bytes": _nullable("integer"),
                        "lag_seconds": _nullable("number"),
                        "consumer": {
                            "anyOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "required": [
                                        "pid",
                                        "application_name",
                                        "client_addr",
                                        "state",
                                        "sent_lsn",
                                        "write_lsn",
                                        "flush_lsn",
                                        "write_lag_seconds",
                                        "flush_lag_seconds",
                                        "reply_time",
                                    ],
                                    "properties": {
                                        "pid": {"type": "integer"},
                                        "application_name": _nullable("string"),
                                        "client_addr": _nullable("string"),
                                        "state": _nullable("string"),
                                        "sent_lsn": _LSN_OR_NULL,
                                        "write_lsn": _LSN_OR_NULL,
                                        "flush_lsn": _LSN_OR_NULL,
                                        "write_lag_seconds": _nullable("number"),
                                        "flush_lag_seconds": _nullable("number"),
                                        "reply_time": _nullable("string"),
                                    },
                                },
                            ]
                        },
                    },
                },
            ]
        },
        "checkpoint": {
            "anyOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": [
                        "location",
                        "found",
                        "acked_lsn",
                        "written_at",
                        "age_seconds",
                        "freshness_seconds",
                        "tables",
                    ],
                    "properties": {
                        "location": {"type": "string"},
                        "found": {"type": "boolean"},
                        "acked_lsn": _LSN_OR_NULL,
                        # how far the slot may be (walstream.pipeline.checkpoint): a slot past
                        # it has a gap
                        "recorded_lsn": _LSN_OR_NULL,
                        "written_at": _nullable("string"),
                        "age_seconds": _nullable("number"),
                        "freshness_seconds": _nullable("number"),
                        "tables": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "required": [
                                    "last_file",
                                    "first_lsn",
                                    "last_lsn",
                                    "last_commit_time",
                                    "last_file_rows",
                                    "files",
                                    "rows",
                                    "freshness_seconds",
                                    "snapshot",
                                ],
                                "properties": {
                                    "last_file": _nullable("string"),
                                    "first_lsn": _LSN_OR_NULL,
                                    "last_lsn": _LSN_OR_NULL,
                                    "last_commit_time": _nullable("string"),
                                    "last_file_rows": _nullable("integer"),
                                    "files": _nullable("integer"),
                                    "rows": _nullable("integer"),
                                    "freshness_seconds": _nullable("number"),
                                    "snapshot": {},
                                },
                            },
                        },
                    },
                },
            ]
        },
        "warehouse": {
            "anyOf": [
                {"type": "null"},  # neither --warehouse nor --snowflake
                {
                    "type": "object",
                    "required": ["source", "location", "last_load_at", "tables", "metrics"],
                    "properties": {
                        # duckdb:PATH or snowflake:ACCOUNT/DATABASE.SCHEMA
                        "source": {"type": "string", "pattern": "^(duckdb|snowflake):"},
                        # the DuckDB file, or ACCOUNT/DATABASE.SCHEMA.WALSTREAM_WATERMARKS
                        "location": {"type": "string"},
                        "last_load_at": _nullable("string"),
                        "tables": {
                            "type": "object",
                            "additionalProperties": {
                                "type": "object",
                                "required": [
                                    "state",
                                    "slot",
                                    "watermark_lsn",
                                    "waiting_for",
                                    "waiting_since",
                                    "waiting_seconds",
                                    "merged_at",
                                    "load_lsn",
                                    "load_seq",
                                ],
                                "properties": {
                                    # loading: a full load merged in slices, no watermark
                                    # meanwhile (load_lsn, merged up to load_seq); never waiting
                                    "state": {"enum": ["merged", "waiting", "loading", "new"]},
                                    "slot": _nullable("string"),
                                    "watermark_lsn": _LSN_OR_NULL,
                                    "waiting_for": _nullable("string"),
                                    "waiting_since": _nullable("string"),
                                    "waiting_seconds": {"type": "number", "minimum": 0},
                                    "merged_at": _nullable("string"),
                                    "load_lsn": _LSN_OR_NULL,
                                    "load_seq": _nullable("integer"),
                                    # the file flow, from the manifests (written) and the
                                    # files that reached STAGING (loaded); null when the
                                    # bookkeeping could not be read
                                    "files_written": _nullable("integer"),
                                    "rows_written": _nullable("integer"),
                                    "files_loaded": _nullable("integer"),
                                    "rows_loaded": _nullable("integer"),
                                    "files_unloaded": _nullable("integer"),
                                    "unloaded_since": _nullable("string"),
                                    "unloaded_seconds": _nullable("number"),
                                    "last_loaded_at": _nullable("string"),
                                    # files whose load failed and that have not loaded since
                                    # (COPY_HISTORY; the local warehouse's own record); the
                                    # first ones listed. null: not read
                                    "failed_files": _nullable("integer"),
                                    "failures": {
                                        "type": ["array", "null"],
                                        "items": {
                                            "type": "object",
                                            "required": ["file", "status", "error", "failed_at"],
                                            "properties": {
                                                "file": {"type": "string"},
                                                "status": _nullable("string"),
                                                "error": _nullable("string"),
                                                "failed_at": _nullable("string"),
                                            },
                                        },
                                    },
                                    # the MERGE task's recent runs (TASK_HISTORY): the last
                                    # one that ended, and how many of those read failed
                                    "task": {
                                        "type": ["object", "null"],
                                        "required": [
                                            "last_state",
                                            "last_scheduled_at",
                                            "last_completed_at",
                                            "last_error",
                                            "failed_runs",
                                            "runs",
                                        ],
                                        "properties": {
                                            "last_state": _nullable("string"),
                                            "last_scheduled_at": _nullable("string"),
                                            "last_completed_at": _nullable("string"),
                                            "last_error": _nullable("string"),
                                            "failed_runs": {"type": "integer", "minimum": 0},
                                            "runs": {"type": "integer", "minimum": 0},
                                        },
                                    },
                                    # SYSTEM$PIPE_STATUS (Snowflake only; null locally)
                                    "pipe": {
                                        "type": ["object", "null"],
                                        "required": [
                                            "state",
                                            "pending_files",
                                            "last_ingested_at",
                                            "error",
                                        ],
                                        "properties": {
                                            "state": _nullable("string"),
                                            "pending_files": _nullable("integer"),
                                            "last_ingested_at": _nullable("string"),
                                            "error": _nullable("string"),
                                        },
                                    },
                                    # FINAL freshness: the source commit time at the merged
                                    # watermark, and now minus it
                                    "final_commit_time": _nullable("string"),
                                    "freshness_seconds": _nullable("number"),
                                    # the slot's confirmed_flush_lsn minus the watermark
                                    # (with --dsn), in bytes
                                    "watermark_lag_bytes": _nullable("integer"),
                                },
                            },
                        },
                        # the same numbers as `walstream warehouse load --metrics-file` writes
                        "metrics": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "labels", "value"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "labels": {
                                        "type": "object",
                                        "additionalProperties": {"type": "string"},
                                    },
                                    "value": {"type": "number"},
                                },
                            },
                        },
                    },
                },
            ]
        },
    },
}
