"""Products, their releases, repositories and interfaces."""
