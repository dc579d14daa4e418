"""How weights and other per-lane values are packed into memory words.

Pure NumPy, shared by the gateware (memory initial contents) and the host
(WEIGHTS frames that load a layer's weights into a board's SPRAM): both sides
must agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["pack_lanes", "weight_words", "conv_weight_words"]


def pack_lanes(values: np.ndarray, width: int) -> list[int]:
    """Pack ``values[word, lane]`` (signed ints) into ``lanes * width``-bit words."""
    mask = (1 << width) - 1
    words = []
    for row in np.asarray(values, dtype=np.int64):
        word = 0
        for lane, v in enumerate(row.tolist()):
            word |= (int(v) & mask) << (lane * width)
        words.append(word)
    return words


def weight_words(W: np.ndarray, lanes: int, w_bits: int) -> list[int]:
    """The synapse array's weight memory: word ``g * n_in + j`` holds
    ``W[g*lanes + l, j]`` in lane ``l`` (rows past ``n_out`` are zero)."""
    W = np.asarray(W, dtype=np.int64)
    n_out, n_in = W.shape
    groups = math.ceil(n_out / lanes)
    padded = np.zeros((groups * lanes, n_in), dtype=np.int64)
    padded[:n_out] = W
    rows = padded.reshape(groups, lanes, n_in).transpose(0, 2, 1)
    return pack_lanes(rows.reshape(-1, lanes), w_bits)


def conv_weight_words(W: np.ndarray, lanes: int, w_bits: int) -> list[int]:
    """A conv layer's weight memory (``W[C_out, C_in, KH, KW]``): word
    ``((gc * C_in + ci) * KH + ky) * KW + kx`` holds ``W[gc*lanes + l, ci, ky, kx]`` in
    lane ``l`` (channels past ``C_out`` are zero; :mod:`snnhw.gateware.window`)."""
    W = np.asarray(W, dtype=np.int64)
    groups = math.ceil(W.shape[0] / lanes)
    padded = np.zeros((groups * lanes, *W.shape[1:]), dtype=np.int64)
    padded[:W.shape[0]] = W
    rows = padded.reshape(groups, lanes, -1).transpose(0, 2, 1)     # [gc, tap, lane]
    return pack_lanes(rows.reshape(-1, lanes), w_bits)
