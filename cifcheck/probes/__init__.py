"""Probes: the only code besides session.py and browser.py that talks to Playwright. They gather, never judge."""
