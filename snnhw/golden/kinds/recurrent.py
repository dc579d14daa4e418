"""The ``recurrent`` kind's charge in the golden model (docs/arithmetic.md, "Recurrence").

The feed-forward part ``b + W s_in`` is the dense kind's, computed for every step at
once; the feedback ``R s[t-1]`` needs the layer's own spikes of the step before and is
added step by step by :func:`snnhw.golden.model.run` (and by :mod:`snnhw.golden.naive`),
from the layer's ``feedback``.
"""

from __future__ import annotations

from .dense import charge, naive_charges

__all__ = ["charge", "naive_charges"]
