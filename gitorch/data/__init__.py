"""Data files shipped with gitorch (the model price table)."""
