"""Host side of the board link: run samples on a board over UART."""

from .session import (
    BoardBackend,
    BoardError,
    LinkSession,
)

__all__ = [
    "LinkSession", "BoardBackend", "BoardError",
]
