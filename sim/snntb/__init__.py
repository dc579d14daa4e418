"""cocotb 2.x testbench library for snnhw's generated Verilog.

Small typed parts, assembled by :class:`~snntb.testbench.Testbench`:

* :class:`~snntb.bus.StreamSource` drives a valid/ready stream (with pauses);
* :class:`~snntb.bus.StreamMonitor` records every transfer on a stream;
* :class:`~snntb.bus.ReadyDriver` applies backpressure (pauses on ``ready``);
* :class:`~snntb.model.Model` rebuilds samples from the *monitored* input and
  runs the golden model on them;
* :class:`~snntb.checker.Checker` compares every output beat with the model
  and names the first mismatch.

:mod:`snntb.runner` builds and runs it on Verilator or Icarus through
``cocotb_tools.runner``. Pause patterns and the event format come from
:mod:`snnhw.protocol.streams`, shared with the Amaranth-simulator tests.
"""
