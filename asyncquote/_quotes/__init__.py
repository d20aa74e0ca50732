"""Live quotes: subscriptions, streams, snapshots — the client layer's feature folder."""
