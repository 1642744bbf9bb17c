"""Registers the sub-commands on the ``stikstofcalc`` group (one place to add them)."""

from __future__ import annotations


def register(group):
    """Add every sub-command module's commands to ``group``."""
    from .deposition import cli as deposition_cli

    group.add_command(deposition_cli.deposition)

    from . import cli_emissions

    group.add_command(cli_emissions.emissions)
    group.add_command(cli_emissions.kengetallen_group)

    from . import cli_calc

    group.add_command(cli_calc.calc)

    from . import cli_imaer

    group.add_command(cli_imaer.export_imaer)
    group.add_command(cli_imaer.check_imaer)

    from . import cli_batch

    group.add_command(cli_batch.template)
    group.add_command(cli_batch.batch)

    from . import cli_maps

    group.add_command(cli_maps.headroom_map)

    from . import cli_capacity

    group.add_command(cli_capacity.capacity)
    group.add_command(cli_capacity.woondeal)
