"""Registers the sub-commands on the ``stikstofcalc`` group (one place to add them)."""

from __future__ import annotations


def register(group):
    """Add every sub-command module's commands to ``group``."""
    from stikstofcalc.cli import deposition as deposition_cli

    group.add_command(deposition_cli.deposition)

    from stikstofcalc.cli import emissions as cli_emissions

    group.add_command(cli_emissions.emissions)
    group.add_command(cli_emissions.kengetallen_group)

    from stikstofcalc.cli import calc as cli_calc

    group.add_command(cli_calc.calc)

    from stikstofcalc.cli import imaer as cli_imaer

    group.add_command(cli_imaer.export_imaer)
    group.add_command(cli_imaer.check_imaer)

    from stikstofcalc.cli import batch as cli_batch

    group.add_command(cli_batch.template)
    group.add_command(cli_batch.batch)

    from stikstofcalc.cli import maps as cli_maps

    group.add_command(cli_maps.headroom_map)

    from stikstofcalc.cli import capacity as cli_capacity

    group.add_command(cli_capacity.capacity)
    group.add_command(cli_capacity.woondeal)
