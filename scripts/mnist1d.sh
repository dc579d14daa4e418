#!/usr/bin/env bash
# MNIST-1D end to end: train the spiking MLP (40-256-128-10, T=4, 2-bit spikes,
# normalised inputs folded into the first layer), export it, co-verify torch
# integer mode, golden model and the RTL (Verilator) on all 1000 test samples,
# and estimate it for the iCEBreaker. Everything goes to out/.
source "$(dirname "${BASH_SOURCE[0]}")/prologue.sh"
echo "== train on mnist1d (its defaults: Adam, 60 epochs, normalised inputs, BatchNorm)"
"$SNNHW" train --data mnist1d -o out/mnist1d.pt
echo "== export: integer IR; torch integer mode == golden model on the 1000 test samples"
"$SNNHW" export out/mnist1d.pt -o out/mnist1d.snn --name mnist1d
echo "== verify: torch integer mode vs golden model vs RTL (Verilator), all 1000 test samples"
"$SNNHW" verify out/mnist1d.snn --data mnist1d --lanes 8 --work out/sim-mnist1d
echo "== estimate: iCEBreaker"
"$SNNHW" estimate out/mnist1d.snn --board icebreaker --lanes 4,2,1 --clock-mhz 30
