"""IEC 62443-4-1, IEC 62443-4-2 and CRA catalogs as versioned package data, and the mapping between them."""
