"""Linked work's rules: reading a link's URL (`urls`), the trackers' JSON (`reading`), asking the
trackers over REST (`remote`), and the links stored (`links`)."""
