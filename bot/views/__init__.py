"""Block Kit, built with slack_sdk.models (which validates Slack's limits), one module per surface.

Views are pure functions from domain results to blocks or views; all user text is escaped here.
"""
