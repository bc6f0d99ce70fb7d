"""Qt pages of the desktop application, in one subpackage per feature; the shell composes them."""
