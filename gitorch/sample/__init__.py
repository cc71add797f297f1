"""The sample project ``gitorch demo`` works on (data, not part of gitorch's API)."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).parent
