"""The web app (``fingerspell serve``): a FastAPI server and a browser page.

* :mod:`.protocol`: what travels over the WebSocket (frames in, readings out) and its checks;
* :mod:`.sessions`: one recognition session per connection, on its own worker thread;
* :mod:`.security`: the origin check and the per-connection frame-rate cap;
* :mod:`.server`: the FastAPI app and ``serve``;
* :mod:`.chart`: builds the letter chart (``static/letters.json``) from real photos;
* ``static/``: the page (camera, overlay, sentence, practice mode, letter chart).

See docs/web.md.
"""
