"""A streaming model's persistent state region: where each state lives between time steps.

The arena is reused within a step; the states must survive from one step to the next, so they get a
region of their own (model.c's `state`, zeroed by edgexf_reset()). Each state sits at a 16-byte
aligned offset; edgexf_step() copies it into the arena before the first op and copies the next state
back after the last.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgexf.ir.graph import Graph

STATE_ALIGNMENT = 16  # bytes: each state's offset in the region (LDRD/vector loads of the kernels)


@dataclass(frozen=True)
class StateSlot:
    name: str  # the state tensor (defined before the first op)
    next: str  # the tensor the last op leaves, the next step's state
    offset: int  # bytes from the region's start
    bytes: int


@dataclass(frozen=True)
class StateRegion:
    slots: tuple[StateSlot, ...] = ()
    bytes: int = 0  # the whole region, each slot rounded up to STATE_ALIGNMENT

    def to_dict(self) -> dict:
        return {
            "bytes": self.bytes,
            "states": [
                {"name": s.name, "next": s.next, "offset": s.offset, "bytes": s.bytes} for s in self.slots
            ],
        }


def plan_states(graph: Graph) -> StateRegion:
    """The region of the graph's states in their order (empty for a model without states)."""
    slots, offset = [], 0
    for state, nxt in graph.states:
        nbytes = graph.tensors[state].nbytes
        slots.append(StateSlot(state, nxt, offset, nbytes))
        offset += -(-nbytes // STATE_ALIGNMENT) * STATE_ALIGNMENT
    return StateRegion(tuple(slots), offset)


def state_bytes(graph: Graph) -> int:
    """Bytes of the persistent state region (0 for a model without states)."""
    return plan_states(graph).bytes
