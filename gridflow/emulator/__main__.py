"""`python -m gridflow.emulator --port N` starts the patched moto server."""

from gridflow.emulator.server import main

main()
