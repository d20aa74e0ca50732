"""Where a client's connection stands: below both the session that changes it
and the event models that report it, so neither imports the other (nor does
the simulator, which uses the event models, load the session).
"""

from __future__ import annotations

import enum

__all__ = ["ConnectionState"]


class ConnectionState(enum.Enum):
    """Where a client's connection to OpenD stands."""

    CONNECTING = "connecting"
    """Opening the first connection."""
    CONNECTED = "connected"
    """Handshaken and usable."""
    RECONNECTING = "reconnecting"
    """The connection was lost; a new one is being opened (calls wait)."""
    CLOSED = "closed"
    """Closed by the client, or lost with reconnecting off or given up."""
