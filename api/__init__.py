"""The HTTP face of fugong: the Starlette app, settings, the local database and the CLI."""
