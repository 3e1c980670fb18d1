"""Larger page sections (tabs, result views), one module per page (named like the page)."""
