"""The playground: a demo company to seed, for `make demo` and its local Slack."""
