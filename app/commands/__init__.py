"""One module per `faultline` command; `app.cli` assembles them; shared options are in `options`."""
