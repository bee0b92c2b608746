"""Form widgets shared by the merchant screens and staff's admin."""

from django import forms


class WriteOnlySecretInput(forms.PasswordInput):
    """A secret input that never renders a value back into the page.

    Auth codes use it too: a text input would show the code to anyone looking at
    the screen and let the browser keep it in its form history.
    """

    def __init__(self, attrs=None):
        super().__init__(
            attrs={
                "autocomplete": "new-password",
                "autocapitalize": "none",
                "spellcheck": "false",
                **(attrs or {}),
            },
            render_value=False,
        )
