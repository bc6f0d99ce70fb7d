"""SunSpec devices: discovery of the 'SunS' marker and profiles from pysunspec2's model definitions.

Runs on the device I/O thread's asyncio loop (discovery) or any thread
(profile building). ``discover_profile`` is what ``protocols.detect`` calls.
"""

from .discovery import ALIASES, BASES, MARKER, alias_values, build_profile, discover_profile, find_base, walk_models
from .models import PREFIXES, model_length, model_points

__all__ = ["ALIASES", "BASES", "MARKER", "PREFIXES", "alias_values", "build_profile",
           "discover_profile", "find_base", "model_length", "model_points", "walk_models"]
