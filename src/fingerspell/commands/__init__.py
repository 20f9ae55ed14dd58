"""Subcommands of the ``fingerspell`` CLI, one module each (see ``fingerspell.cli``)."""
