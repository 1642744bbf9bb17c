"""Registers the sub-commands on the ``stikstofcalc`` group (one place to add them)."""

from __future__ import annotations

from stikstofcalc.cli import batch as cli_batch
from stikstofcalc.cli import calc as cli_calc
from stikstofcalc.cli import capacity as cli_capacity
from stikstofcalc.cli import deposition as deposition_cli
from stikstofcalc.cli import emissions as cli_emissions
from stikstofcalc.cli import imaer as cli_imaer
from stikstofcalc.cli import maps as cli_maps


def register(group):
    """Add every sub-command module's commands to ``group``."""
    group.add_command(deposition_cli.deposition)

    group.add_command(cli_emissions.emissions)
    group.add_command(cli_emissions.kengetallen_group)

    group.add_command(cli_calc.calc)

    group.add_command(cli_imaer.export_imaer)
    group.add_command(cli_imaer.check_imaer)

    group.add_command(cli_batch.template)
    group.add_command(cli_batch.batch)

    group.add_command(cli_maps.headroom_map)

    group.add_command(cli_capacity.capacity)
    group.add_command(cli_capacity.woondeal)
