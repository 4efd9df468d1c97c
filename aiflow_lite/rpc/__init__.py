"""The gRPC shim's wire side shared by clients and servers: the contract (`aiflow.proto` and its
generated modules), the codec between it and aiflow_lite's values, and the clients.

Nothing here is imported unless a `host:port` uri is used: grpc and protobuf load only then.
"""
