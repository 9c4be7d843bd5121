"""The detector over HTTP: the FastAPI application (:mod:`.app`, its page ``page.html``) and a
client that starts, calls and load-tests it (:mod:`.client`)."""
