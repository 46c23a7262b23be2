"""--weights: which tensors go to the external flash, by the stated rule (edgexf/targets/placement.py)."""

from __future__ import annotations

import pytest

from edgexf.errors import BoardError
from edgexf.targets.boards import load_board
from edgexf.targets.placement import CODE_RESERVE_BYTES, place_weights

DISCO = load_board("stm32f746g-disco")
BUDGET = DISCO.flash.size - CODE_RESERVE_BYTES  # what auto lets the weights take of the internal flash


def test_auto_keeps_weights_inside_while_they_fit() -> None:
    sizes = {"a": BUDGET - 16, "b": 16}
    placed = place_weights(sizes, DISCO, "auto")
    assert placed.external == () and placed.internal_bytes == BUDGET and placed.external_bytes == 0


def test_auto_moves_the_largest_tensors_until_the_rest_fit() -> None:
    sizes = {"small": 100_000, "big": 600_000, "mid": 300_000, "mid2": 300_000, "tiny": 10}
    placed = place_weights(sizes, DISCO, "auto")
    # 1,300,010 B (1,300,016 with 16-byte alignment) is over the budget; without "big" the rest fit
    assert placed.external == ("big",) and placed.tier is DISCO.weights_tier
    assert (placed.internal_bytes, placed.external_bytes) == (700_016, 600_000)
    # equal sizes go by name, so the choice repeats
    ties = {"a": 400_000, "m2": 300_000, "m1": 300_000, "z": 300_000, "y": 300_000}
    assert place_weights(ties, DISCO).external == ("a", "m1")


def test_internal_and_external_put_everything_in_one_memory() -> None:
    sizes = {"w": 2_000_000, "b": 40}
    inside = place_weights(sizes, DISCO, "internal")
    assert inside.external == () and inside.internal_bytes == 2_000_048  # refused later: over the flash
    outside = place_weights(sizes, DISCO, "external")
    assert outside.external == ("w", "b") and (outside.internal_bytes, outside.external_bytes) == (
        0,
        2_000_048,
    )
    assert outside.sections() == {"w": ".edgexf_ext", "b": ".edgexf_ext"}


def test_a_board_without_external_flash() -> None:
    f746 = load_board("stm32f746")
    assert place_weights({"w": 2_000_000}, f746, "auto").external == ()  # auto is internal there
    with pytest.raises(BoardError, match="board stm32f746 .* has no external flash .* e.g. stm32f746g-disco"):
        place_weights({"w": 16}, f746, "external")
