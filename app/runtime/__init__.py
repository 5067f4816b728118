"""The running process: settings, definition loading, wiring, process state, lifespan, app."""
