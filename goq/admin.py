"""Sign-in limits in the admin: axes' pages, with its clean-up action made to work.

Staff unlock an account by deleting its access attempts (logged by ``goq.signin``).
"""

from axes.admin import AccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import ngettext


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
