"""Local Jira Cloud and GitHub on loopback: the REST answers and the signed webhooks the vendors send,
for the tests and the demo. Like bot/localslack, it knows only the vendors, nothing of Throughline."""
