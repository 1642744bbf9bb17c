"""The built wheel carries the key-figure tables and finds them when installed elsewhere."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
from pathlib import Path
import stikstofcalc, stikstofcalc.kengetallen as k
target = Path(sys.argv[1]).resolve()
assert Path(stikstofcalc.__file__).resolve().is_relative_to(target), stikstofcalc.__file__
root = Path(str(k.data_root())).resolve()
assert root.is_relative_to(target), root
kg = k.load()
assert kg.figure("machinery_factors", "ZUT", "nox_per_hour").value == 200.0
from stikstofcalc.emissions.inventory import emission_sources
t = emission_sources(sys.argv[2])
assert t["nox_kg_per_yr"].sum() > 0
print("OK", kg.edition, root)
"""


@pytest.mark.slow
def test_wheel_ships_and_finds_kengetallen(tmp_path):
    """Build the wheel (no network: --no-isolation), install it into a target dir, load the data."""
    if importlib.util.find_spec("hatchling") is None or importlib.util.find_spec("build") is None:
        pytest.skip("build or hatchling not installed (pip install -e '.[test]')")
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation",
                            "--outdir", str(dist), str(ROOT)], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"wheel could not be built here: {built.stderr[-500:]}")
    wheel = next(dist.glob("*.whl"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)], check=True)
    assert (target / "stikstofcalc" / "kengetallen" / "2026.1" / "machinery_factors.csv").is_file()
    env = dict(os.environ, PYTHONPATH=str(target))
    run = subprocess.run([sys.executable, "-c", CHECK, str(target),
                          str(ROOT / "examples" / "dorp_kleine_uitbreiding.toml")],
                         capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("OK 2026.1")
