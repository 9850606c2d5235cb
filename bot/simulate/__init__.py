"""`throughline simulate`: a quarter of a made-up company through the real bot, on a simulated clock.

`company` makes the people, teams, OKRs and initiatives; `behaviour` decides what each simulated
person does; `world` runs the real tick, outbox and handlers at the times something can be due;
`report` and `chart` turn what arrived in the local Slack into figures.
"""
