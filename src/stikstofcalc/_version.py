"""The package version (read by the build, hatch: ``[tool.hatch.version]``)."""

__version__ = "0.2.1"
