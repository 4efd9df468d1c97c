"""The gRPC shim's servers: they serve one home's event log and `ops` to remote clients.
The embedded path never needs them."""
