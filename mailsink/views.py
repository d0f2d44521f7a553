from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from mailsink.selectors import mail_visible


@login_required
def mail_list(request: HttpRequest) -> HttpResponse:
    """What the local mail sink received, for the user's teams (404 when the sink is off)."""
    if not settings.HIVEOPS_MAILSINK:
        raise Http404("the mail sink is off")
    return render(request, "mailsink/list.html", {"mails": mail_visible(user=request.user)})
