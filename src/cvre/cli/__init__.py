"""The `cvre` command line: thin commands that load config, call one function, print a summary."""
