"""Reports read from the published warehouse: the weekly report."""
