"""Pure domain rules: standard library and python-dateutil only, no I/O."""
