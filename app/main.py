"""Wires the concrete pieces into the FastAPI application (see create_app)."""
