"""A console e-mail backend for development that a person can read.

Django's console backend prints the encoded message: Japanese subjects and bodies come
out as base64. This one prints the headers and the body decoded. `make run` uses it
(EMAIL_URL unset with DEBUG on).
"""

import email
import email.policy

from django.core.mail.backends import console


class EmailBackend(console.EmailBackend):
    def write_message(self, message):
        raw = message.message().as_bytes()
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        for name, value in parsed.items():
            if name.lower() not in {"content-type", "content-transfer-encoding", "mime-version"}:
                self.stream.write(f"{name}: {value}\n")
        self.stream.write("\n" + parsed.get_content().rstrip() + "\n")
        self.stream.write("-" * 79 + "\n")
