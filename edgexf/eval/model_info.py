"""What the evaluation firmware says about its model (MODEL_INFO, docs/eval_protocol.md), and the hash
that ties a board's firmware to a build directory.

`edgexf compile` writes model_info() into the firmware (edgexf/eval/build.py) and its hash into
report.json as "model_hash"; `edgexf eval` compares the two before it runs anything.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from edgexf.errors import EdgexfError
from edgexf.eval.protocol import VERSION

_SOURCE_SUFFIXES = (".c", ".h")


def model_hash(model_dir: Path) -> str:
    """sha256 over the generated sources (.c and .h), sorted by name: each name, a NUL, its length,
    its bytes. Equal hashes mean the same C, so the same model, weights and kernels."""
    model_dir = Path(model_dir)
    files = sorted(p for p in model_dir.iterdir() if p.is_file() and p.suffix in _SOURCE_SUFFIXES)
    if not files:
        raise EdgexfError(f"{model_dir} holds no .c or .h files: not a generated model directory")
    h = hashlib.sha256()
    for path in files:
        data = path.read_bytes()
        h.update(path.name.encode() + b"\0" + len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def tensor_info(io: dict) -> dict:
    """One input or output as MODEL_INFO lists it, from report.json's entry for it."""
    info = {"name": io["name"], "dtype": io["dtype"], "shape": list(io["shape"]), "bytes": io["bytes"]}
    if io.get("quant") is not None:
        info |= {"scale": io["quant"]["scale"], "zero_point": io["quant"]["zero_point"]}
    return info


def model_info(
    *,
    name: str,
    model_hash: str,
    board: str,
    kernels: str,
    arena_bytes: int,
    inputs: list[dict],
    outputs: list[dict],
    state_bytes: int = 0,
) -> dict:
    """MODEL_INFO's JSON object, with exactly the protocol's keys. inputs and outputs: report.json's
    entries ({"name", "shape", "dtype", "bytes", "quant"?}); state_bytes: a recurrent model's state,
    kept between steps apart from the arena (0 for other models)."""
    return {
        "protocol": VERSION,
        "name": name,
        "hash": model_hash,
        "board": board,
        "kernels": kernels,
        "arena_bytes": arena_bytes,
        "state_bytes": state_bytes,
        "inputs": [tensor_info(t) for t in inputs],
        "outputs": [tensor_info(t) for t in outputs],
    }


def model_info_from_report(report: dict) -> dict:
    """model_info() of a build directory's report.json: what its evaluation firmware answers."""
    if "model_hash" not in report:
        raise EdgexfError("report.json has no model_hash: compile the model again with this edgexf")
    return model_info(
        name=report["model"],
        model_hash=report["model_hash"],
        board=report["board"],
        kernels=report["kernels"]["used"],
        arena_bytes=report["arena_bytes"],
        inputs=report["inputs"],
        outputs=report["outputs"],
        state_bytes=(report.get("streaming") or {}).get("state_bytes", 0),
    )
