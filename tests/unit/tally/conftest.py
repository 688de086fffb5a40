"""Fixtures for the tally tests."""
import pytest
from tally_testdata import pabulib_dir


@pytest.fixture(scope="session")
def pabulib_path():
    return pabulib_dir()
