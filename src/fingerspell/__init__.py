"""fingerspell: real-time ASL fingerspelling recognition.

The Python API (see :mod:`fingerspell.api`) loads on first use, so ``import fingerspell`` stays
light::

    import fingerspell
    reader = fingerspell.load()
    print(reader.predict("photo.jpg").letter)
"""

__version__ = "0.1.0"

_API = ("load", "Reader", "Prediction", "Transcript")
__all__ = ["__version__", *_API]


def __getattr__(name):
    if name in _API:
        from fingerspell import api

        return getattr(api, name)
    raise AttributeError(f"module 'fingerspell' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_API))
