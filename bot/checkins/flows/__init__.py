"""Check-ins, the flows: decide (through the service), render (views), enqueue, and trigger the
follow-ons in other capabilities (dependencies, escalation).

- `messages`: editing a slot's DMs in place; excusing open check-ins.
- `tick`: the nudges and reminders of the tick.
- `lifecycle`: closing an initiative (`close_initiative`), cancel, reassign, change of cadence.
- `absence`: snooze (and its DM edit).
- `answers`: recording an answer (quick buttons, the Update modal) and telling people.
- `command`: carrying out a parsed `/checkin`.
"""
