"""The `docgap` command line (typer): each command parses its arguments and calls a use case."""
