"""Rakuten RMS (楽天市場) as a mall: its API vocabulary, client, verdict texts, the
connection model and its services, and a local sandbox that stands in for RMS.
The connection core reaches it through ``malls.rakuten.provider``."""
