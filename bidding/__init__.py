"""Sealed bids: keys, sealing, threshold opening and the bid log's Merkle tree; no I/O."""
