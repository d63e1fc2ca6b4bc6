"""The procurement domain: tenders and the parties that run them, with no I/O."""
