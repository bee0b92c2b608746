"""A view that reads the raw request stream itself, as the MakeShop app webhooks do for a
chunked body: for tests/goq/test_body_limit.py only."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def read_raw(request):
    stream = request.META["wsgi.input"]
    size = request.GET.get("size")
    data = stream.read(int(size)) if size else stream.read()
    return HttpResponse(str(len(data)))


urlpatterns = [path("raw/", read_raw)]
