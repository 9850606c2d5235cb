"""The digest as Slack shows it: the message (`message`, from the jinja2 templates in
`bot/digest/templates/`) and the chart posted in its thread (`chart`, a PNG)."""
