"""Sources other than the inbox: the one-stop-shop system's HTTP API.

``api`` is the connector (pages of JSON → ``raw.onestop_rows``, one pseudo-file
per pull, with a "changed since" watermark); ``simulator`` is a stand-in
server for that API, used by the tests and for local runs.
"""
