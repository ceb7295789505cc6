"""Docstring examples run as written: the package docstring's, and each class's listed
below must have at least one example, all of which pass."""

import doctest

import pytest

import twin


def test_package_docstring_example():
    result = doctest.testmod(twin, verbose=False)
    assert result.attempted >= 3
    assert result.failed == 0


#: Classes and functions whose docstrings must carry a runnable example.
DOCUMENTED = [
    "Schema", "SignalSpec", "CommandSpec", "Insight", "Command", "IngestReport",
    "FleetReport", "SimReport", "WhatIfResult", "PumpDrive", "WindTurbine", "BatteryCell",
    "ConveyorDrive", "ThermalMass", "SchemaImport", "Decoded", "senml_decode", "senml_encode",
    "object_decode", "object_encode", "history_frame",
]


def run_examples(obj, name):
    """Run the examples of ``obj``'s own docstring (not its members'); (attempted, failed)."""
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    attempted = failed = 0
    for test in finder.find(obj, name, globs={}):
        r = runner.run(test, out=lambda s: None)
        attempted += r.attempted
        failed += r.failed
    return attempted, failed


@pytest.mark.parametrize("name", DOCUMENTED)
def test_docstring_has_an_example_that_runs(name):
    if name == "history_frame":
        pytest.importorskip("pandas")
    obj = getattr(twin, name)
    attempted, failed = run_examples(obj, f"twin.{name}")
    assert attempted >= 1, f"twin.{name} has no docstring example"
    assert failed == 0, f"{failed} of {attempted} examples of twin.{name} failed"


def test_a_failing_example_is_seen():
    def sample():
        """>>> 1 + 1
        3
        """
    assert run_examples(sample, "sample") == (1, 1)
