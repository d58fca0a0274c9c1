"""Where the next initialized tick is, from the pool's tick bitmap, as v3-core's TickBitmap.

ref: https://github.com/Uniswap/v3-core/blob/main/contracts/libraries/TickBitmap.sol

The bitmap maps a word position (int16) to a 256-bit word; bit `b` of word `w` stands for the
compressed tick `w * 256 + b`, i.e. the tick `(w * 256 + b) * tick_spacing`. A state read from
the chain knows only some words: `word_range` (inclusive) says which; a word inside it that is
missing from the mapping is zero, a word outside it raises `IncompleteStateError`.
"""

from __future__ import annotations

from collections.abc import Mapping

from flasharb.amm.uniswap_v3.revert import V3Revert
from flasharb.amm.uniswap_v3.tick_math import MAX_TICK, MIN_TICK
from flasharb.errors import IncompleteStateError

__all__ = [
    "flip_tick",
    "next_initialized_tick_within_one_word",
    "position",
    "word_bounds",
]


def position(tick: int) -> tuple[int, int]:
    """(word position, bit position) of a compressed tick (tick / tick_spacing).

    ref: TickBitmap.sol `position`: wordPos = int16(tick >> 8); bitPos = uint8(tick % 256)
    (an arithmetic shift, and the int24 remainder read as uint8: both are Python's floor
    semantics, e.g. -1 -> (-1, 255)).
    """
    return tick >> 8, tick & 0xFF


def word_bounds(tick_spacing: int) -> tuple[int, int]:
    """The inclusive range of word positions a swap of a pool with `tick_spacing` can read:
    from the word of the compressed MIN_TICK to the word after the compressed MAX_TICK (a swap
    upwards reads the word of `compressed + 1`)."""
    return (MIN_TICK // tick_spacing) >> 8, (MAX_TICK // tick_spacing + 1) >> 8


def flip_tick(word: int, tick: int, tick_spacing: int) -> tuple[int, int]:
    """(word position, new word) after flipping `tick` in `word` (the word at its position).

    ref: TickBitmap.sol `flipTick`: require(tick % tickSpacing == 0)

    Raises:
        V3Revert: `tick` is not a multiple of `tick_spacing` (the Solidity's bare require).
    """
    if tick % tick_spacing:
        raise V3Revert(
            "TickBitmap.flipTick",
            "",
            f"tick {tick} is not a multiple of the spacing {tick_spacing}",
        )
    word_pos, bit_pos = position(tick // tick_spacing)
    return word_pos, word ^ (1 << bit_pos)


def next_initialized_tick_within_one_word(
    tick_bitmap: Mapping[int, int],
    tick: int,
    tick_spacing: int,
    lte: bool,
    word_range: tuple[int, int] | None = None,
) -> tuple[int, bool]:
    """The next initialized tick in the same word as `tick` (or the adjacent one), searching
    left (`lte`, at or below `tick`) or right (above `tick`); if none, the word's last tick
    in that direction, with `initialized` False.

    ref: TickBitmap.sol `nextInitializedTickWithinOneWord`

    Args:
        tick_bitmap: word position -> word, as the pool's `tickBitmap`.
        word_range: inclusive word positions known to `tick_bitmap`; None means all of them.

    Raises:
        IncompleteStateError: the word this step reads is outside `word_range`.
    """
    compressed = tick // tick_spacing  # Solidity: truncate, then -1 for negative remainders
    # position(compressed), or position(compressed + 1) searching right: start from the word of
    # the next tick, since the current tick state doesn't matter (inlined: this is the hot loop)
    start = compressed if lte else compressed + 1
    word_pos, bit_pos = start >> 8, start & 0xFF
    if word_range is not None and not word_range[0] <= word_pos <= word_range[1]:
        raise IncompleteStateError(
            f"tick bitmap word {word_pos} (tick {tick}, spacing {tick_spacing}) is outside the "
            f"words read, {word_range[0]}..{word_range[1]}; re-read the pool with a wider window"
        )
    word = tick_bitmap.get(word_pos, 0)
    if lte:
        # all the 1s at or to the right of the current bit_pos
        masked = word & ((1 << bit_pos) - 1 + (1 << bit_pos))
        if masked:  # most significant bit of masked
            return (compressed - (bit_pos - (masked.bit_length() - 1))) * tick_spacing, True
        return (compressed - bit_pos) * tick_spacing, False
    # all the 1s at or to the left of the bit_pos (within 256 bits)
    masked = word & ~((1 << bit_pos) - 1)
    if masked:  # least significant bit of masked
        lsb = (masked & -masked).bit_length() - 1
        return (compressed + 1 + (lsb - bit_pos)) * tick_spacing, True
    return (compressed + 1 + (255 - bit_pos)) * tick_spacing, False
