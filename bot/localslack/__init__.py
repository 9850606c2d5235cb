"""A local Slack: the Web API and the requests Slack sends, on loopback, for the tests and the demo."""
