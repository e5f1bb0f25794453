"""Matching: score admissible mentee–mentor pairs, solve the capacity-constrained
assignment to optimality, and propose the result with reasons people can read."""
