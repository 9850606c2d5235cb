"""Status surfaces: the `/initiative` replies (`replies`: your work, search, an OKR, usage, and
the small pieces other surfaces share) and the status card of one initiative (`card`)."""
