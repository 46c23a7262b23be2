"""docs/report.md, written from report.schema.json so the two cannot drift (tests/run/test_report_schema.py
compares them): `python -m edgexf.schemas.report_docs > docs/report.md`."""

from __future__ import annotations

from edgexf.schemas import report_schema

HEADER = """# report.json

Every `edgexf compile` writes `report.json` into the build directory. Its form is
`edgexf/schemas/report.schema.json` (JSON Schema, draft 2020-12), checked when the report is written;
`schema_version` changes whenever a field changes meaning or a required field comes or goes. Sizes are
bytes, MAC counts per inference (a streaming model's: the whole sequence), times in seconds unless a
field's name says otherwise. This page is generated from the schema:
`python -m edgexf.schemas.report_docs > docs/report.md`.

| field | type | meaning |
|---|---|---|
"""


def _type(spec: dict) -> str:
    if "oneOf" in spec:
        return " or ".join(_type(s) for s in spec["oneOf"])
    t = spec.get("type", "any")
    text = " or ".join(t) if isinstance(t, list) else t
    if "enum" in spec:
        text += ": " + ", ".join(f"`{v}`" for v in spec["enum"])
    if "const" in spec:
        text += f" = {spec['const']}"
    return text


def _rows(props: dict, required: list[str], prefix: str) -> list[str]:
    rows = []
    for name, spec in props.items():
        path = f"{prefix}{name}"
        body = next((s for s in spec.get("oneOf", []) if s.get("type") == "object"), spec)
        optional = "" if name in required else " (optional)"
        desc = (spec.get("description") or body.get("description", "")).replace("|", "\\|")
        rows.append(f"| `{path}` | {_type(spec)}{optional} | {desc} |")
        items = body.get("items", {})
        if body.get("properties"):
            rows += _rows(body["properties"], body.get("required", []), f"{path}.")
        elif items.get("properties"):
            rows += _rows(items["properties"], items.get("required", []), f"{path}[].")
    return rows


def render() -> str:
    schema = report_schema()
    return HEADER + "\n".join(_rows(schema["properties"], schema["required"], "")) + "\n"


if __name__ == "__main__":
    print(render(), end="")
