"""Intake's rules and SQL: a request enters only with the OKR it moves, and triage turns it into an
initiative.

- `submit.submit` validates the request modal (every error on its own input block), links the
  request to a registered, active OKR (picked, or found by its link) and gives it a key. One modal
  submits one request, however often Slack delivers it.
- `triage`: accept, decline, ask for info, by a triage lead or the OKR's owner only; the
  requester's answer to the latest question.
- `queue`: the proposed requests ranked by strategic weight (OKR priority × stated impact), then
  age. There is no urgency field.

Telling people (the messages, their outbox keys) is `bot.intake.flows`'.
"""
