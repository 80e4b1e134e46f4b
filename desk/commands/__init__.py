"""One module per `desk` command; each has `register(subparsers)`."""
