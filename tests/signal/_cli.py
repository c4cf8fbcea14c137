"""Run ``edxreview emg ...`` in-process, as the tests of the command do."""

import argparse


def emg_cli(argv: list[str]) -> int:
    """Parse ``argv`` with the ``emg`` parser and run the command it names; its exit status."""
    from edxreview.cli import emg

    parser = argparse.ArgumentParser()
    emg.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)
