"""State machines the board build encodes one-hot.

Amaranth encodes a state machine's state in binary, and Yosys re-encodes only
the state registers without an initial value, which Amaranth's always have. A
large state machine then decodes its state in every enable and next-state
condition: on the iCE40 the serial core's control (some twenty states) put five
or more LUT levels between its state register and itself. A state machine named
:data:`ONE_HOT` (``m.FSM(name=ONE_HOT)``) is marked by :data:`YOSYS_COMMANDS`,
run by the board build after reading the design, and Yosys encodes it one-hot
(a flip-flop per state; each state's decode is that flip-flop).

The state register's initial value is then not kept: a state machine named so
must be reset before it runs, as the serial core is (its reset is the link's
clear, high from power-up). Simulation and the Verilog in ``rtl_out/`` are
unchanged (the attribute is set in the board build's script only).
"""

from __future__ import annotations

__all__ = ["ONE_HOT", "YOSYS_COMMANDS"]

#: the name of a state machine encoded one-hot (its state register is ``<name>_state``)
ONE_HOT = "control"
#: Yosys commands (after ``read_rtlil``) marking those state registers
YOSYS_COMMANDS = f'setattr -set fsm_encoding "one-hot" w:{ONE_HOT}_state'
