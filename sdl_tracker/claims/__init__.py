"""IEC 62443-4-2 capability claims per release, the achieved SL-C vector and the gap to the target."""
