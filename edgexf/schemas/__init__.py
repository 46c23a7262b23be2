"""JSON Schemas of the files edgexf writes for other tools to read (report.schema.json: report.json)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

REPORT_SCHEMA = Path(__file__).with_name("report.schema.json")
REPORT_SCHEMA_VERSION = 1  # report.json's "schema_version"; the schema's const must say the same


@cache
def report_schema() -> dict:
    return json.loads(REPORT_SCHEMA.read_text())


def report_problems(report: dict) -> list[str]:
    """Where `report` breaks report.schema.json: one line per problem (path: message), [] when none."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(report_schema())
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
        for e in sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))
    ]
