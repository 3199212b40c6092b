"""Everything that speaks HTTP to USCIS (or to the built-in sandbox)."""
