"""``python -m entrypoints.cli``: the ``procurement`` command."""

from entrypoints.cli.main import main

main()
