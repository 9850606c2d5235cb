"""Linked work: Jira issues and epics, GitHub issues, pull requests and milestones linked to an
initiative (`/initiative link`, the card's "Link work"), kept current by the vendors' webhooks
(`handlers.webhooks`) and a reconcile in the tick (`jobs`) that repairs what a webhook missed.

Below the status card and the check-ins, which show the links; above `initiatives`, whose lookup it
uses. Nothing here calls Slack: the listeners in `handlers` answer the person who asked."""
