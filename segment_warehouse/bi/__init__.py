"""What BI users see: the HTML segment report and the Superset dashboard as code."""
