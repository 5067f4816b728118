"""The pure domain: spec models, windows, budget math, attribution, alert rules, policy state.

Nothing in this package performs I/O: no files, no network, no database, no clock. Callers pass
text in and get models, numbers and problems out; time is always an explicit argument.
"""
