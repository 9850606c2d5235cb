"""The durable outbox: `outbox.enqueue(...)` in a domain transaction; the deliverer sends it."""

from bot.outbox.enqueue import enqueue, enqueue_folded, enqueue_update, enqueue_upload

__all__ = ["enqueue", "enqueue_folded", "enqueue_update", "enqueue_upload"]
