"""Contracts: drawn from awards, signed by both parties, amended and implemented; no I/O."""
