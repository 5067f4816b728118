"""Faultline: an SLO and error-budget service that attributes budget spend to failure modes."""

__version__ = "0.1.0"
