"""Entry points: the HTTP API, the command line and the launcher. They only translate."""
