"""The outside world: source connectors, the Intercom client and the Intercom sandbox.

The bottom layer: imports nothing from helpmig_tui or screens.
"""
