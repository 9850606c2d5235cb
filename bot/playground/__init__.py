"""A local stand-in for Slack's client: Block Kit and mrkdwn rendered as HTML."""
