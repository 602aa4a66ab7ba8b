"""PSIRT cases and the CRA Article 14 reporting clocks they run."""
