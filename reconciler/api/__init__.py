"""Talk to the NX1 jobs API: the client, its credentials, how answers are read, the throttle."""
