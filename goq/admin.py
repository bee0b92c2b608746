"""Sign-in limits in the admin: axes' pages, with its clean-up action made to work.

Staff unlock an account by deleting its access attempts (logged by ``goq.signin``).
"""

from axes.admin import AccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import gettext_noop, ngettext


class SigninAttemptAdmin(AccessAttemptAdmin):
    @admin.action(description=AccessAttemptAdmin.cleanup_expired_attempts.short_description)
    def cleanup_expired_attempts(self, request, queryset):
        # axes reads the time of "now" from attributes its handlers set on a sign-in
        # request; an admin request has none, and the action would fail.
        AxesProxyHandler.update_request(request)
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(
            request,
            ngettext(
                "Cleaned up %(count)d expired access attempt.",
                "Cleaned up %(count)d expired access attempts.",
                count,
            ) % {"count": count},
        )


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, SigninAttemptAdmin)


# django-axes' labels on the staff pages, kept in our catalogue (axes ships no Japanese);
# marked here so that makemessages keeps them.
AXES_TEXTS = (
    gettext_noop("Access Attempt"),
    gettext_noop("Access lock out"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("POST Data"),
    gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
)
