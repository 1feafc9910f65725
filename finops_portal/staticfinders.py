"""Serve plotly.js from the installed plotly package, so the version always matches."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PLOTLY_STATIC_PATH = "vendor/plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Finds ``vendor/plotly.min.js`` inside the plotly package (no CDN, no copy in git)."""

    def __init__(self, *args, **kwargs):
        self.root = Path(plotly.__file__).parent / "package_data"
        self.storage = FileSystemStorage(location=str(self.root))
        self.storage.prefix = "vendor"

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path == PLOTLY_STATIC_PATH:
            match = str(self.root / "plotly.min.js")
            return [match] if find_all else match
        return []

    def list(self, ignore_patterns):
        yield "plotly.min.js", self.storage
