"""``topspark demo``: a simulated robot and the three nodes as processes, watched and reported."""
