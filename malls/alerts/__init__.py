"""E-mail alerts: tell a store's members when a shop's connection breaks or is fixed,
remind them while it stays broken, give them a mall's notices (a key about to expire),
and send staff a daily digest.

- ``states``: each mall's registration; which of its states are "working", "needs the
  merchant" or neither.
- ``models``: the open alert per shop, the outbox of e-mails, each user's choices.
- ``services``: ``note_connection_change`` (the one trigger) and the reminders.
- ``outbox``: claiming and sending queued e-mails, exactly once, with back-off.
- ``notices``: one-off e-mails a mall queues (once per shop and key), and the hook
  ``manage.py send_alerts`` runs.
- ``digest``: the daily staff digest.
- ``emails``: subjects and bodies in the recipient's language.
"""
