"""The intake surfaces: the request modal (`request`), the triage post and its decision modals
(`triage`), the messages a requester and an owner get (`messages`), and the triage queue
(`queue`). Views import no domain module; the flows render their messages through these."""
