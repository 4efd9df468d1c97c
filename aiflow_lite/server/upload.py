"""`python -m aiflow_lite.server.upload FILE [ARTIFACT ...]`: an upload received over the wire,
run in a process of its own. The uploaded workflow file is code; running it here keeps its
import-time effects (modules, threads, memory, the working directory) out of the server and its
scheduler. Prints the stored workflows as JSON lines; an error is one line on stderr, exit 1."""

from __future__ import annotations

import json
import sys


def main(argv: list) -> int:
    from aiflow_lite.errors import AiflowError
    from aiflow_lite.ops import backend

    backend.serve_locally()  # the server's own home, whatever aiflow_client.yaml says
    from aiflow_lite.ops import upload_workflows

    try:
        metas = upload_workflows(argv[0], argv[1:])
    except AiflowError as exc:
        print(" ".join(str(exc).split()), file=sys.stderr)
        return 1
    for meta in metas:
        print(json.dumps(meta.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
