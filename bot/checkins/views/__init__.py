"""Check-in surfaces, Block Kit from models only: `prompt` (the DM, its reminder, the shared
pieces), `command` (`/checkin`'s replies), `update` (the Update modal, its options, confirmations)."""
