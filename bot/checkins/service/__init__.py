"""Check-ins, the rules and the SQL: takes a Session, plain values and `now`, returns models;
never renders and never enqueues.

- `schedule`: cadences, zones, the next slot; the directory pass.
- `slots`: what one owner was asked at one slot; closing a pending check-in; `/checkin`'s list.
- `tick`: due owners, claiming one, asking a slot, settling reminders.
- `absence`: snoozing a slot, out of office.
- `answers`: the rules of answering, the Update modal's form and checks, the "waiting on" search.
- `command`: the `/checkin` text grammar.
"""
