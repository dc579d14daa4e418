"""Co-verification: the same integer inputs through the torch integer mode, the
golden model and a hardware backend, with the first mismatch named
(``coverify``); the comparison helpers (``compare``) and the backend interface
(``backend``) import neither PyTorch nor a simulator."""
