"""Customer records in the window: the customers page, the record form and the consent dialog. GUI thread."""
