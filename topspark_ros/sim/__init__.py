"""The simulated robot: scenarios of environments, rendered camera frames, a draining battery,
the sim-robot node's logic, and a scenario written as a bag. A real robot runs none of it."""
