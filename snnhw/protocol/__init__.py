"""What crosses a wire: the event stream format (``streams``), the packing of
weights into memory words (``words``) and the UART link's frames (``link``).

Gateware, host and testbenches all take these definitions from here.
"""
