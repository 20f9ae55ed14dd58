"""Real-time recognition: frame sources, classifiers (PyTorch / ONNX), smoothing, the recognizer.

* :mod:`~fingerspell.runtime.sources`: ``open_source(spec)`` for webcams, videos and image folders;
* :mod:`~fingerspell.runtime.classifier`: ``load_classifier(path, backend)`` and model look-up;
* :mod:`~fingerspell.runtime.onnx`: ``export_onnx(checkpoint, out)``;
* :mod:`~fingerspell.runtime.smoothing`: vote windows, hand tracks and the sentence builder;
* :mod:`~fingerspell.runtime.recognizer`: ``Recognizer.process(frame, t) -> FrameResult``;
* :mod:`~fingerspell.runtime.speech`: optional text-to-speech.

Import the submodules directly; this package imports nothing heavy.
"""
