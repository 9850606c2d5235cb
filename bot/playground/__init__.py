"""The playground: Throughline in a local Slack in the browser, with no workspace needed."""
