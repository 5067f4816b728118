"""One module per `faultline` command; each registers itself on `app.cli.cli`."""
