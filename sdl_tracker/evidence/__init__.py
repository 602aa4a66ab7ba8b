"""IEC 62443-4-1 practice evidence: items, revisions, artifacts, requirement links, review."""
