"""The node graph, free of any transport: what each node subscribes to, publishes and runs
(``wiring``), and the runner that drives a node's logic on any transport (``runner``)."""
