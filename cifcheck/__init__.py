"""cifcheck: validate a Dynamics 365 Channel Integration Framework 2.0 migration in a real browser."""

__version__ = "0.1.0"
