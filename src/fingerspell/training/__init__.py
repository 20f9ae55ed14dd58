"""Training, evaluation and leave-one-group-out runs of the models in :mod:`fingerspell.models`.

Import the pieces from their modules (``fingerspell.training.train.train``,
``fingerspell.training.evaluate.evaluate_arrays``, ``fingerspell.training.logo.run_logo``); this package
file stays light so that ``fingerspell --help`` does not load torch.
"""
