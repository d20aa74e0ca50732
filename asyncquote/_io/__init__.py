"""The I/O layer: event-loop primitives, task groups, the drivers (wires), the
connection, the session that survives connections, and the broadcast.
"""
