"""CycloneDX SBOMs per release: import, validation, components and dependencies."""
