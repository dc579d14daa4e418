#!/usr/bin/env bash
# Set up (idempotent) and run the main job on the default data (digits);
# everything it writes goes to out/.
source "$(dirname "${BASH_SOURCE[0]}")/prologue.sh"
echo "== train: spiking MLP 64-128-10, T=4, 2-bit spikes, on the bundled digits"
"$SNNHW" train -o out/model.pt
echo "== export: quantise to the integer IR, check torch integer mode == golden model"
"$SNNHW" export out/model.pt -o out/digits.snn --name digits
echo "== info"
"$SNNHW" info out/digits.snn
echo "== generate: Verilog for 8 lanes into rtl_out/digits/"
"$SNNHW" generate out/digits.snn --lanes 8 -o rtl_out/digits
echo "== verify: torch integer mode vs golden model vs RTL (Verilator), whole test split"
"$SNNHW" verify out/model.pt --name digits --sim verilator --rtl rtl_out/digits
echo "== estimate and build: iCEBreaker (iCE40UP5K) with the open toolchain (YoWASP)"
"$SNNHW" estimate out/digits.snn --board icebreaker --lanes 2,1 --clock-mhz 30
"$SNNHW" build out/digits.snn --board icebreaker --lanes 2,1 --clock-mhz 30 -o out/build/icebreaker
