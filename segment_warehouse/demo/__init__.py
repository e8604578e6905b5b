"""The demo data generator, a module per source, with planted ground truth."""
