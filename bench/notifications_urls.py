"""The project's URLs plus ``bench/bare/...``: a view that only answers 200, for comparison."""

from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def bare(request, **kwargs):
    return HttpResponse("OK", content_type="text/plain; charset=utf-8")


urlpatterns = [
    re_path(r"^bench/bare/", bare),
    path("", include("goq.urls")),
]
