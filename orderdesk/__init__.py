"""orderdesk: a desktop order-management application."""

__version__ = "0.1.0"
