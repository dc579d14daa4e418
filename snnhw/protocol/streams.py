"""The event-stream format shared by the gateware, its simulators and the host.

Independent of Amaranth and cocotb, so that the Amaranth-simulator tests, the
cocotb testbenches and the board link all encode, decode and stall streams
the same way (docs/protocols.md).

Input stream of a network (and between layers): events ``(index, value,
eos)``. For each time step, one event per non-zero input value (zero values
are skipped: they cost nothing), then an end-of-step marker (``eos=1``,
index and value 0). A sample is ``T`` steps.

Output stream: per sample, ``n_out`` beats carrying the logits in order
(``is_class=0``), then one beat carrying the class (``is_class=1``,
``last=1``).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Event", "Result", "encode_sample", "encode_batch", "decode_results", "pauses",
           "PAUSE_PATTERNS", "index_width"]


def index_width(n: int) -> int:
    """Bits of an index ``0..n-1`` (at least 1)."""
    return max(1, (n - 1).bit_length())


@dataclass(frozen=True)
class Event:
    index: int
    value: int
    eos: int = 0


@dataclass(frozen=True)
class Result:
    value: int
    is_class: int
    last: int


def encode_sample(x) -> list[Event]:
    """Events for one sample ``x[T, n_in]``: non-zero values per step, then the marker."""
    events = []
    for step in np.asarray(x):
        for j in np.flatnonzero(step):
            events.append(Event(int(j), int(step[j])))
        events.append(Event(0, 0, 1))
    return events


def encode_batch(x) -> list[Event]:
    """Events for ``x[batch, T, n_in]``, samples back to back."""
    return [e for sample in np.asarray(x) for e in encode_sample(sample)]


def decode_results(beats: list[Result], n_out: int) -> tuple[list[list[int]], list[int]]:
    """Split output beats into per-sample ``(logits, classes)``.

    Raises ``ValueError`` if the beats do not form whole samples of exactly
    ``n_out`` logits followed by one class beat.
    """
    logits, classes, cur = [], [], []
    for k, b in enumerate(beats):
        if b.is_class:
            if len(cur) != n_out or not b.last:
                raise ValueError(f"beat {k}: class after {len(cur)} logits (expected {n_out}), "
                                 f"last={b.last}")
            logits.append(cur)
            classes.append(b.value)
            cur = []
        else:
            if b.last:
                raise ValueError(f"beat {k}: 'last' set on a logit beat")
            cur.append(b.value)
    if cur:
        raise ValueError(f"{len(cur)} trailing logits without a class beat")
    return logits, classes


#: The idle/backpressure patterns :func:`pauses` knows
PAUSE_PATTERNS = ("none", "light", "alternate", "bursty", "heavy")


def pauses(pattern: str = "none", seed: int = 0) -> Iterator[bool]:
    """Infinite iterator of ``True`` (pause this cycle) / ``False`` (go).

    ``none`` never pauses; ``light`` pauses ~20 % of cycles, ``heavy`` ~70 %,
    ``bursty`` in runs of up to 12 cycles, ``alternate`` every other cycle
    (``itertools.cycle`` like cocotbext-axi's pause generators). Seeded.
    """
    rng = random.Random(seed)
    if pattern == "none":
        return itertools.repeat(False)
    if pattern == "alternate":
        return itertools.cycle([True, False])
    if pattern in ("light", "heavy"):
        p = 0.2 if pattern == "light" else 0.7
        return (rng.random() < p for _ in itertools.count())
    if pattern == "bursty":
        def gen():
            while True:
                yield from [True] * rng.randint(0, 12)
                yield from [False] * rng.randint(1, 12)
        return gen()
    raise ValueError(f"unknown pause pattern {pattern!r}; one of {PAUSE_PATTERNS}")
