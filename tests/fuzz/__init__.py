"""Property-based fuzzing of every form and of MakeShop's notification endpoint.

Two properties hold for any input: the answer is never a server error, and an input
the app refuses leaves the database as it was. Each test runs 1,000 examples in
``make test`` and 10,000 under ``pytest -m slow``.
"""
