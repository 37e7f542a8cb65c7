"""Paginators: given a page, which request comes next (one module per family), and the guards around them."""
