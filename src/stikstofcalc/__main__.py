"""``python -m stikstofcalc``: the command line (:mod:`stikstofcalc.cli`)."""

from .cli import main

main(prog_name="stikstofcalc")
