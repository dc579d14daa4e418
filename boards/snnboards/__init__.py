"""Board tops and the open-toolchain build (Yosys + nextpnr through YoWASP).

Installed as the package ``snnboards`` from ``boards/snnboards``.
"""
