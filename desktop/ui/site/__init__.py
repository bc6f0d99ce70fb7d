"""The site: every device of an installation in one view (tree and overview). GUI thread."""
