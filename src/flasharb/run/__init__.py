"""`flasharb run`: watch blocks, sync, scan, execute what clears the guard, journal it all."""
