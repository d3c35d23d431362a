# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Fixtures shared by the test files (the emulator's own come from its pytest plugin)."""
import pytest
from servers import ScriptedServer


@pytest.fixture
def scripted():
    """A `servers.ScriptedServer` on 127.0.0.2, for answers the emulator never gives."""
    with ScriptedServer("127.0.0.2") as server:
        yield server
