"""SBOMs per release (CycloneDX, SPDX): import, validation, components and dependencies."""
