"""The `frontdesk` command (and `python -m frontdesk`, how `serve` and its supervisor start their
processes). `frontdesk worker` loads the `worker` command alone (frontdesk.cli_worker): a worker
starts without the other commands' modules."""

import sys


def main() -> None:
    if sys.argv[1:2] == ["worker"]:
        from frontdesk.cli_worker import app
    else:
        from frontdesk.cli import app
    app(prog_name="frontdesk")


if __name__ == "__main__":
    main()
