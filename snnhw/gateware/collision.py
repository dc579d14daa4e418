"""Memories whose reads never use a word written in the same cycle.

Block RAM and LUT RAM leave undefined what a read returns when a write of the
same cycle writes the word it reads. An Amaranth read port promises the old word,
and Yosys builds that promise beside every memory with a write port: the write
delayed a cycle through flip-flops, a bypass register, an address compare and a
multiplexer on the read data (on the iCEBreaker, 167 of the 2,034 logic cells of
the digits MLP's serial design). No core needs it: a word a core writes and then
uses is read a cycle after the write at the earliest, and a read in the cycle of a
write to its word is a read whose data nothing takes. :func:`collision_free_read`
states that for one memory:

* in a board build the memory carries the attribute :data:`COLLISION_FREE`, and the
  build's Yosys script runs :data:`YOSYS_COMMANDS` after reading the design: the
  result of such a read is left undefined (``RD_COLLISION_X_MASK``), so none of
  that logic is built;
* without a platform (simulation, the exported Verilog that Verilator and Icarus
  run), a read in the cycle of a write to its word returns the word inverted, so a
  design that used such a read would fail the bit-exact tests: they are what check
  the statement.
"""

from __future__ import annotations

from amaranth.hdl import Signal

__all__ = ["COLLISION_FREE", "YOSYS_COMMANDS", "collision_free_read"]

#: Yosys attribute of a memory whose same-address read-during-write result is unused
COLLISION_FREE = "snnhw_collision_free"
#: Yosys commands (after ``read_rtlil``) that leave those reads undefined: the memory
#: cells are collected first (the attribute moves to the ``$mem_v2`` cell), each with
#: one read port and one write port (a one-bit mask)
YOSYS_COMMANDS = ("proc; memory_collect; "
                  f"setparam -set RD_COLLISION_X_MASK 1'1 t:$mem_v2 a:{COLLISION_FREE} %i")


def collision_free_read(m, mem, rd, wr, platform):
    """The data of read port ``rd`` of ``mem`` (a memory with this one read port and the
    one write port ``wr``) under the statement of the module docstring: ``rd.data`` on
    a platform, else ``rd.data`` inverted in the cycle after ``rd`` read the word ``wr``
    wrote."""
    if COLLISION_FREE in mem.attrs:
        raise ValueError("collision_free_read takes a memory's one read port once")
    mem.attrs[COLLISION_FREE] = 1
    if platform is not None:
        return rd.data
    hit = Signal(name="read_write_collision")
    m.d.sync += hit.eq(rd.en & wr.en.any() & (rd.addr == wr.addr))
    return rd.data ^ hit.replicate(len(rd.data))
