"""The node system as processes, for commands: start, watch and stop node processes, talk to
them through a participant, and benchmark their latency end to end."""
