"""The installation's signing keys as people see them: fingerprints, rotation, the public key."""
