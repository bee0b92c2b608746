"""Cross-cutting helpers with no models and no knowledge of any mall (client addresses,
redaction of secrets). Every app may import it; it imports no app."""
