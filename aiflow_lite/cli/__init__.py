"""The `aiflow` and `notification` commands: a thin shell over the library.

Heavy modules (apsw, yaml, rich, grpc) are imported inside the commands that need them, so that
`--help` and `version` stay fast.
"""
