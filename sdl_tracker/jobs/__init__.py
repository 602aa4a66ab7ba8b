"""Jobs: long work queued in a table, run in phases by `sdl-tracker worker`, progress for every door."""
