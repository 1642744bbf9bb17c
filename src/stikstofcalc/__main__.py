"""``python -m stikstofcalc``: the command line (:mod:`stikstofcalc.cli.main`)."""

from stikstofcalc.cli.main import main

main(prog_name="stikstofcalc")
