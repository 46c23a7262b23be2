"""Remove the data-movement ops that cancel out, so the passes after this one see the ops that compute.

    reshape(reshape(x))            =>  reshape(x)
    transpose(transpose(x, p), q)  =>  transpose(x, p o q)
    reshape(x) to x's own shape, transpose(x) by the identity  =>  x
    transpose(x, [0,2,3,1]) -> reshape (1, H*W, C)  =>  reshape (1, C, H*W) -> transpose [0,2,1]

Converters write such pairs around every op whose layout they change (TFLite's NHWC convolutions read
through two transposes that undo each other; squeezed batch axes come and go around BATCH_MATMUL and
FULLY_CONNECTED). Only a middle tensor that nothing else reads, and that is no graph output, goes.
When an op that changes nothing goes, its readers read its input (the name the model file gave the
computing op's result; the importer names reshapes after the op they feed); a graph output keeps its
name and its producer writes it. A pre-quantized model's tensors joined by data movement share one
scale and zero point, so the names that survive carry the same quantization parameters.
"""

from __future__ import annotations

from edgexf.ir.graph import Graph, Op

MOVES = ("reshape", "transpose")


def _compose(g: Graph, producer: dict, users: dict, exits: set, op: Op) -> bool:
    inner = producer.get(op.inputs[0])
    if inner is None or inner.type != op.type or op.inputs[0] in exits or len(users[op.inputs[0]]) != 1:
        return False
    if op.type == "reshape":
        attrs = {"shape": op.attrs["shape"]}
    else:
        attrs = {"perm": [inner.attrs["perm"][p] for p in op.attrs["perm"]]}
    i = next(k for k, o in enumerate(g.ops) if o is op)
    g.ops[i] = Op(op.type, op.name, [inner.inputs[0]], list(op.outputs), attrs, inner.source or op.source)
    g.ops = [o for o in g.ops if o is not inner]
    del g.tensors[inner.outputs[0]]
    return True


def _identity(g: Graph, producer: dict, users: dict, exits: set, op: Op) -> bool:
    x, y = op.inputs[0], op.outputs[0]
    if op.type == "transpose" and op.attrs["perm"] != sorted(op.attrs["perm"]):
        return False
    if g.tensors[x].shape != g.tensors[y].shape:
        return False
    maker = producer.get(x)
    if y not in exits:  # the readers read x
        for reader in users.get(y, []):
            reader.inputs = [x if t == y else t for t in reader.inputs]
        del g.tensors[y]
    elif maker is not None and x not in exits and len(users[x]) == 1:  # the producer writes y
        maker.outputs = [y if o == x else o for o in maker.outputs]
        del g.tensors[x]
    else:
        return False
    g.ops = [o for o in g.ops if o is not op]
    return True


def _tokens_from_nhwc(g: Graph, producer: dict, users: dict, exits: set, op: Op) -> bool:
    """transpose(x (1, C, H, W), [0, 2, 3, 1]) -> reshape (1, H*W, C)  =>  reshape (1, C, H*W) ->
    transpose [0, 2, 1]: the same tokens, in the form of a patch embedding (timm's NHWC output,
    dynamic_img_size=True)."""
    if op.type != "transpose" or op.attrs["perm"] != [0, 2, 3, 1]:
        return False
    t = op.outputs[0]
    r = users.get(t, [None])[0]
    if r is None or r.type != "reshape" or len(users[t]) != 1 or t in exits:
        return False
    one, c, h, w = g.tensors[op.inputs[0]].shape
    if one != 1 or g.tensors[r.outputs[0]].shape != (1, h * w, c):
        return False
    g.tensors[t].shape = (1, c, h * w)
    i = next(k for k, o in enumerate(g.ops) if o is op)
    g.ops[i] = Op("reshape", op.name, list(op.inputs), [t], {"shape": (1, c, h * w)}, op.source)
    j = next(k for k, o in enumerate(g.ops) if o is r)
    g.ops[j] = Op("transpose", r.name, [t], list(r.outputs), {"perm": [0, 2, 1]}, r.source)
    return True


def simplify_layout(graph: Graph) -> Graph:
    """Apply the rules above until none applies; returns the new graph, verified."""
    g = graph.copy()
    changed = True
    while changed:
        producer, users, exits = g.producer(), g.consumers(), set(g.exit_tensors())
        changed = any(
            rule(g, producer, users, exits, op)
            for op in list(g.ops)
            if op.type in MOVES
            for rule in (_compose, _identity, _tokens_from_nhwc)
        )
    return g.verify()
