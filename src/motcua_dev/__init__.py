"""Development tooling of Một cửa Analytics, kept apart from the runtime package.

``generator`` (sample and test inboxes with known answers), ``simulator`` (a
stand-in for the one-stop-shop HTTP API), ``bench`` (load and build
benchmarks), ``celery_stack`` (the CeleryExecutor set-up as local processes,
for tests/e2e) and ``cli`` (``make test``, ``make lint``, ``make bench``).
The production image (``Dockerfile``) copies ``src/motcua`` only; nothing in
``motcua`` imports this package at module level (``tests/dev/test_layout.py``).
"""
