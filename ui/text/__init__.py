"""Page text that quotes computed numbers, one module per page (named like the page)."""
