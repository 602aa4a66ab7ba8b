"""The dashboard: the first page after sign-in, across every feature (so it sits above them all)."""
