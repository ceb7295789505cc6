"""The package docstring's example runs as written."""

import doctest

import twin


def test_package_docstring_example():
    result = doctest.testmod(twin, verbose=False)
    assert result.attempted >= 3
    assert result.failed == 0
