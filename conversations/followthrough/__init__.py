"""Follow-through: the pair's agreement, its meetings, what is due when (planning),
the sweep that sends it, and the copy people read."""
