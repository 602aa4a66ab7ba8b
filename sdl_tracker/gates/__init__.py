"""Release gates: one policy over 4-1 records, 4-2 claims, vulnerabilities and CRA duties, evaluated on a snapshot
of facts, signed off by an officer, verified offline."""
