"""Wander: turn photos into 3D worlds you can walk through.

python main.py                 open the app (a demo world on first launch)
python main.py SCENE           open the app with a scene or project
python main.py <command> ...   headless; `python main.py --help` lists commands
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from scene.cpu_threads import limit_blas_threads

    limit_blas_threads()
    from cli import is_command, run_cli

    # the global --debug may come before the command (as `--help` shows it) or after it
    first = next((a for a in args if a != "--debug"), None)
    if first is not None and (is_command(first) or first in ("-h", "--help")):
        return run_cli(args)
    from viewer.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
