"""The escalation ladder's rules and SQL: why a dependency is stalled (`stalls`), what a ladder
message shows (`card`), and the escalation episodes themselves (`episodes`). Nothing here renders
or enqueues: bot.escalation.flows does."""
