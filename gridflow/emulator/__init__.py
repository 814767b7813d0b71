"""The local AWS emulator: moto in server mode with gridflow's patches (see moto_patches)."""
