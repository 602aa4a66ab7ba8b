"""What a release's builds produced: each file's name, size and SHA-256 with the CI run that built it."""
