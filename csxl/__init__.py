"""csxl: spreadsheet-native customer success."""

__version__ = "0.1.0"
