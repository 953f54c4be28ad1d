"""``python -m heimdall`` = the ``heimdall`` command."""

from heimdall.cli import main

main()
