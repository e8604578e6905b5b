"""The project's declarations read from its files, and the README sections generated from them."""
