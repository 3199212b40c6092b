"""casewatch: a terminal dashboard that watches USCIS cases."""

__version__ = "0.1.0"
