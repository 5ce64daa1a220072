"""Media storage back ends (filled in by the storage issue)."""
