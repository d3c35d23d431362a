# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
A local ESO Science Archive emulator: TAP (sync and async), DataLink, file
downloads and the token service, served over real HTTP on 127.0.0.1.

It never imports the client package: shared code would let one bug hide on
both sides. Names are imported on first use, so loading the pytest plugin
(``emulator.pytest_plugin``) stays cheap.

Examples
--------
>>> from astroquery_eso_ancillary.emulator import ArchiveEmulator
>>> with ArchiveEmulator(seed=1, products=20) as emu:
...     emu.tap_url == emu.url + "/tap_obs"
True
"""
import importlib

__all__ = ["ArchiveEmulator", "Faults", "QueryRecord", "RequestRecord", "file_chunks",
           "file_content"]

_HOME = {"ArchiveEmulator": "server", "QueryRecord": "tap_service",
         "RequestRecord": "httpd", "Faults": "faults", "file_chunks": "content",
         "file_content": "content"}


def __getattr__(name):
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
