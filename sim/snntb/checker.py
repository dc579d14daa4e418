"""Scoreboard: every output beat against the model, first mismatch named."""

from __future__ import annotations

import logging
from collections import deque

from snnhw.protocol.streams import Result

from .model import Expected

__all__ = ["Checker"]


class Checker:
    """Groups output beats into results (``n_out`` logits, then the class beat)
    and compares each with the next expected result (:meth:`expect`, the
    model's callback), in order.

    ``first_mismatch`` names the sample, the layer (the readout: the RTL's
    observable output), the neuron (logit index) and both values. A result
    with no sample behind it (a duplicate) or a protocol slip (a class beat
    early, ``last`` on a logit) is an error too.
    """

    def __init__(self, n_out: int, layers: int):
        self.n_out, self.layers = n_out, layers
        self.expected: deque[Expected] = deque()
        self.log = logging.getLogger("snntb.checker")
        self.logits: list[list[int]] = []
        self.classes: list[int] = []
        self.matched = 0
        self.errors: list[str] = []
        self.first_mismatch: dict | None = None
        self._cur: list[int] = []

    def expect(self, item: Expected) -> None:
        self.expected.append(item)

    def observe(self, beat: Result) -> None:
        if not beat.is_class:
            if beat.last:
                self.errors.append(f"result {len(self.logits)}: 'last' on a logit beat")
            self._cur.append(beat.value)
            return
        got = self._cur
        self._cur = []
        if len(got) != self.n_out or not beat.last:
            self.errors.append(f"result {len(self.logits)}: {len(got)} logits before the class "
                               f"beat (expected {self.n_out}), last={beat.last}")
        self.logits.append(got)
        self.classes.append(beat.value)
        if not self.expected:
            self.errors.append(f"result {len(self.logits) - 1}: no input sample behind it "
                               "(duplicated or spurious)")
            return
        want = self.expected.popleft()
        number, logits, cls = want.number, want.logits, want.cls
        if got == logits and beat.value == cls:
            self.matched += 1
            return
        self.log.warning("sample %d: RTL %s / %d, golden %s / %d", number, got, beat.value,
                         logits, cls)
        if self.first_mismatch is None:
            layer = self.layers - 1
            diff = next((i for i, (a, b) in enumerate(zip(got, logits)) if a != b), None)
            if diff is not None:
                self.first_mismatch = dict(sample=number, layer=layer, step=None, neuron=diff,
                                           what="logit", rtl=got[diff], golden=logits[diff])
            else:
                self.first_mismatch = dict(sample=number, layer=layer, step=None, neuron=None,
                                           what="class", rtl=beat.value, golden=cls)

    def missing(self) -> int:
        """Samples sent whose result has not arrived."""
        return len(self.expected)

    @property
    def ok(self) -> bool:
        return (not self.errors and self.first_mismatch is None and self.missing() == 0
                and not self._cur)
