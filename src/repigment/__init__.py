"""repigment: treating non-segmental vitiligo with ruxolitinib cream, following the EU product information."""

__version__ = "0.1.0"
