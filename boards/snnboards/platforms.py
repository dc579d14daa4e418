"""The supported boards: an amaranth-boards platform each, plus what the build needs.

Capacities are the device's totals as nextpnr counts them; the fit check
compares the estimate against them before place and route.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from snnhw.families import ECP5, GOWIN, ICE40, Family

__all__ = ["Board", "BOARDS", "board"]


@dataclass(frozen=True)
class Board:
    name: str
    family: Family
    platform: str                    # amaranth_boards module:class
    clk_hz: float
    uart: tuple[str, int] = ("uart", 0)
    led_activity: tuple[str, int] = ("led", 0)
    led_error: tuple[str, int] = ("led", 1)
    extra_uart: dict | None = None   # UARTResource arguments when the platform has none
    capacity: dict = field(default_factory=dict)
    description: str = ""
    #: serial rates the board's USB-serial bridge takes, fastest first; the default
    #: rate of a build is the first its clock makes (:meth:`default_baud`)
    bauds: tuple[int, ...] = (115_200,)

    def default_baud(self, clk_hz: float | None = None) -> int:
        """The fastest of :attr:`bauds` the design clock ``clk_hz`` (the board's by
        default) makes within 1 % (:func:`snnhw.gateware.uart.fastest_baud`)."""
        from snnhw.gateware.uart import fastest_baud

        return fastest_baud(self.clk_hz if clk_hz is None else clk_hz, self.bauds)

    def platform_class(self):
        """The amaranth-boards platform class, as the family builds with it."""
        import importlib

        module, cls = self.platform.split(":")
        return self.family.adapt_platform(getattr(importlib.import_module(module), cls))

    @property
    def device(self) -> str:
        """The platform's device family string (Gowin's PLL limits depend on it)."""
        return self.make_platform().family

    def make_platform(self):
        plat = self.platform_class()()
        if self.extra_uart is not None:
            from amaranth.build import Attrs
            from amaranth_boards.resources import UARTResource

            plat.add_resources([UARTResource(0, **self.extra_uart["pins"],
                                             conn=self.extra_uart["conn"],
                                             attrs=Attrs(**self.extra_uart["attrs"]))])
        return plat


BOARDS = {
    "icebreaker": Board(
        name="icebreaker", family=ICE40, platform="amaranth_boards.icebreaker:ICEBreakerPlatform",
        clk_hz=12e6, led_activity=("led", 1), led_error=("led", 0),
        capacity={"lc": 5280, "bram": 30, "spram": 4, "dsp": 8, "io": 39},
        description="iCEBreaker, iCE40UP5K-SG48, 12 MHz, UART over the FTDI (second port)",
        # FT2232H: 12 MHz / n (up to 12 Mbaud); 3 Mbaud is 4 cycles a bit at 12 MHz
        bauds=(3_000_000, 2_000_000, 1_000_000, 115_200)),
    "ulx3s": Board(
        name="ulx3s", family=ECP5, platform="amaranth_boards.ulx3s:ULX3S_85F_Platform",
        clk_hz=25e6, led_activity=("led", 0), led_error=("led", 1),
        capacity={"lc": 83640, "bram": 208, "dsp": 156, "io": 197},
        description="ULX3S-85F, LFE5U-85F, 25 MHz, UART over the FTDI",
        # FT231X: up to 3 Mbaud; from 25 MHz only 1 Mbaud is within 1 %
        bauds=(3_000_000, 2_000_000, 1_500_000, 1_000_000, 115_200)),
    "orangecrab": Board(
        name="orangecrab", family=ECP5,
        platform="amaranth_boards.orangecrab_r0_2:OrangeCrabR0_2_25FPlatform",
        clk_hz=48e6, led_activity=("rgb_led", 0), led_error=("rgb_led", 0),
        extra_uart={"pins": {"rx": "0", "tx": "1"}, "conn": ("io", 0),
                    "attrs": {"IO_TYPE": "LVCMOS33"}},
        capacity={"lc": 24288, "bram": 56, "dsp": 28, "io": 197},
        description="OrangeCrab r0.2, LFE5U-25F, 48 MHz; UART on feather pins 0 (rx), 1 (tx) "
                    "for a 3.3 V USB-serial adapter"),
    "tang_nano_9k": Board(
        name="tang_nano_9k", family=GOWIN,
        platform="amaranth_boards.tang_nano_9k:TangNano9kPlatform",
        clk_hz=27e6, led_activity=("led", 0), led_error=("led", 1),
        capacity={"lc": 8640, "bram": 26, "dsp": 20, "io": 71},
        description="Sipeed Tang Nano 9K, GW1NR-LV9QN88PC6/I5, 27 MHz, UART over the "
                    "BL702 USB bridge",
        # a microcontroller's USB-serial firmware: a conservative 1 Mbaud
        bauds=(1_000_000, 115_200)),
    "tang_primer_20k": Board(
        name="tang_primer_20k", family=GOWIN,
        platform="amaranth_boards.tang_primer_20k:TangPrimer20kDockPlatform",
        clk_hz=27e6, led_activity=("led", 0), led_error=("led", 1),
        capacity={"lc": 20736, "bram": 46, "dsp": 48, "io": 207},
        description="Sipeed Tang Primer 20K (dock), GW2A-LV18PG256C8/I7, 27 MHz, UART over "
                    "the BL616 USB bridge",
        bauds=(1_000_000, 115_200)),
}


def board(name: str) -> Board:
    try:
        return BOARDS[name]
    except KeyError:
        raise ValueError(f"unknown board {name!r}; one of {sorted(BOARDS)}") from None
