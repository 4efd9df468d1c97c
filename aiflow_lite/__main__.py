"""`python -m aiflow_lite` is the `aiflow` command."""

from aiflow_lite.cli.aiflow import main

if __name__ == "__main__":
    main()
