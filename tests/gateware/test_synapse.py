"""SynapseArray: accumulators equal sum_j W[:, j] * s_j for any event order and stalls."""

import numpy as np
import pytest

from snnhw.gateware.sim import StandInPlatform, put, simulate
from snnhw.gateware.synapse import LUTRAM_BANK_WORDS, SynapseArray
from snnhw.protocol.streams import pauses


def run_array(W, events, *, lanes, w_bits, in_bits, acc_width, pattern="none", ecp5=False):
    dut = SynapseArray(W, w_bits=w_bits, in_bits=in_bits, lanes=lanes, acc_width=acc_width)
    G = dut.groups
    out = {}
    active = [0]

    async def tb(ctx):
        await put(ctx, dut.i, [{"index": j, "value": s} for j, s in events], pauses(pattern, 1))
        await ctx.tick().until(~dut.busy)
        for clear_pass in range(2):
            for g in range(G):
                ctx.set(dut.sweep.en, 1)
                ctx.set(dut.sweep.addr, g)
                await ctx.tick()
                ctx.set(dut.sweep.en, 0)
                await ctx.tick()                # the data: two cycles after the request
                word = ctx.get(dut.sweep.data)
                mask = (1 << acc_width) - 1
                out[(clear_pass, g)] = [(word >> (lane * acc_width)) & mask
                                        for lane in range(lanes)]

    async def count(ctx):
        while True:
            await ctx.tick()
            active[0] += ctx.get(dut.active)

    simulate(dut, tb, background=[count], platform=StandInPlatform("ecp5") if ecp5 else None)

    def signed(v):
        return v - (1 << acc_width) if v >> (acc_width - 1) else v

    got = np.array([[signed(v) for v in out[(0, g)]] for g in range(G)]).ravel()[: W.shape[0]]
    cleared = [v for g in range(G) for v in out[(1, g)]]
    return got, cleared, active[0], G


@pytest.mark.parametrize("n_out, n_in, lanes, in_bits, pattern", [
    (5, 7, 1, 1, "none"), (5, 7, 5, 3, "heavy"), (5, 7, 8, 3, "alternate"),
    (13, 4, 4, 5, "bursty"), (16, 9, 4, 8, "light"), (3, 3, 2, 2, "none"),
    # back-to-back updates of one group (G=1), of two, three and four: every bypass path
    # (the update in F, a write the read missed by one cycle, by two) and none
    (4, 5, 4, 3, "none"), (6, 5, 3, 2, "none"), (9, 5, 3, 2, "none"), (8, 5, 2, 2, "none"),
    # the same behind a pipelined adder tree (inputs of 5 and 8 bits)
    (4, 6, 2, 8, "none"), (9, 6, 3, 5, "none"), (3, 6, 4, 8, "none"),
])
def test_accumulates_shift_and_add(n_out, n_in, lanes, in_bits, pattern):
    rng = np.random.default_rng(n_out * 100 + lanes)
    w_bits = 6
    W = rng.integers(-32, 32, (n_out, n_in))
    W[0, 0], W[-1, -1] = -32, 31
    events = [(int(j), int(s)) for j, s in zip(rng.integers(0, n_in, 25),
                                                rng.integers(1, 1 << in_bits, 25))]
    events.append((n_in - 1, (1 << in_bits) - 1))
    expect = np.zeros(n_out, np.int64)
    for j, s in events:
        expect += W[:, j] * s
    acc_width = int(np.abs(expect).max()).bit_length() + 2 + 6
    got, cleared, active, G = run_array(W, events, lanes=lanes, w_bits=w_bits, in_bits=in_bits,
                                        acc_width=acc_width, pattern=pattern)
    assert got.tolist() == expect.tolist()
    assert cleared == [0] * (G * lanes)
    assert active == len(events) * G


def test_banked_lut_ram_accumulators_on_ecp5():
    # 70 groups: on ECP5 the accumulators are LUT RAM in banks of 64 words, picked after
    # the banks' read registers; the same sums as the single memory
    rng = np.random.default_rng(5)
    W = rng.integers(-8, 8, (70, 6))
    events = [(int(j), int(s)) for j, s in zip(rng.integers(0, 6, 12), rng.integers(1, 4, 12))]
    expect = np.zeros(70, np.int64)
    for j, s in events:
        expect += W[:, j] * s
    got, cleared, active, G = run_array(W, events, lanes=1, w_bits=4, in_bits=2,
                                        acc_width=12, pattern="heavy", ecp5=True)
    assert G == 70 > LUTRAM_BANK_WORDS
    assert got.tolist() == expect.tolist()
    assert cleared == [0] * G and active == len(events) * G


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="lanes must be a positive integer"):
        SynapseArray(np.zeros((2, 2)), w_bits=4, in_bits=1, lanes=0, acc_width=8)
    with pytest.raises(ValueError, match="weights exceed w_bits=4"):
        SynapseArray(np.full((2, 2), 8), w_bits=4, in_bits=1, lanes=1, acc_width=8)
