"""SunSpec devices: discovery of the 'SunS' marker and profiles from pysunspec2's model definitions.

Runs on the device I/O thread's asyncio loop (discovery) or any thread
(profile building). ``discover_profile`` is what ``protocols.detect`` calls.
"""

from .cache import DEFAULT as DEFAULT_CACHE
from .cache import ChainCache
from .discovery import (
                        BASES,
                        MARKER,
                        MapReader,
                        alias_values,
                        build_profile,
                        discover_from,
                        discover_profile,
                        find_base,
                        probe,
                        walk,
)
from .models import model_length, model_points

__all__ = ["BASES", "DEFAULT_CACHE", "MARKER", "ChainCache", "MapReader", "alias_values", "build_profile",
           "discover_from", "discover_profile", "find_base", "model_length", "model_points", "probe", "walk"]
