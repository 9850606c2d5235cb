"""The leadership digest: strategy's progress per objective, built from aggregate SQL.

What a digest counts (the README's "Leadership digest" section says the same in words):

- The **period** is the cadence period ending at the digest slot (`weekly:fri@16:00` in the
  workspace's zone): from the previous slot (exclusive) to this one (inclusive). A preview covers
  the period in progress: from the last slot to now.
- **Milestones** are initiatives' due dates. *Planned* this period: active or done initiatives due
  on or before the period's last day that were not done before it began (so an overdue one stays
  planned until it is done). *Met*: planned and done within the period. *Missed*: planned and still
  open. Done within the period with a later (or no) due date: *finished ahead of plan*. When an
  initiative was done is `initiative.done_at`, set by the check-in answered "done" (for work done
  before that column existed, the migration took the first check-in answered done, else the
  `initiative.done` event, else its last update).
- **Key results** with a start, a target and a current value show progress (start → current →
  target) and, when their OKR period parses (`2026-Q1`, `2026-H1`, `2026`), where a straight line
  from start to target says they should be by the end of the digest period ("pace"). A KR whose
  value reached its target counts as a milestone of its own.
- The **chart** shows, for each of the last 8 weeks, active initiatives by the health of their
  latest check-in. Its points are the 7 instants of a weekly grid (the digest schedule's weekday
  and time, in the workspace's zone) before the period's end, and the end itself. The tick stores a
  checkpoint of the counts as each grid instant passes (`take_checkpoints`); the chart reads those,
  takes a preview's "now" from the live counts, and replays the check-in history only for an
  instant that has no checkpoint.
- **Changes since the last digest** compare each active initiative's health with the health stored
  in the previous digest's summary (or, before the first digest, with the latest check-in before
  the period began).

Every figure comes from a fixed set of statements, whatever the number of initiatives or OKRs;
lists are capped (`ITEM_LIMIT` per objective) and carry their full count.
"""
