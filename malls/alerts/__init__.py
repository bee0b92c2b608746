"""E-mail alerts: tell a store's members when a shop's connection breaks or is fixed,
remind them while it stays broken, and send staff a daily digest.

- ``states``: which connection states are "working", "needs the merchant" or neither.
- ``models``: the open alert per shop, the outbox of e-mails, each user's choices.
- ``services``: ``note_connection_change`` (the one trigger) and the reminders.
- ``outbox``: claiming and sending queued e-mails, exactly once, with back-off.
- ``digest``: the daily staff digest.
- ``emails``: subjects and bodies in the recipient's language.
"""
