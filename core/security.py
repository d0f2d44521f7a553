"""Content-Security-Policy on every response (Django 5.2 has no built-in one). Pages load
scripts only from our own static files (no inline scripts, no CDN), so the policy is strict;
styles allow inline attributes, which a few templates and the emails use."""

from __future__ import annotations

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _add(self, response):
        policy = settings.HIVEOPS_CSP
        if policy and policy != "off" and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        return self._add(self.get_response(request))

    async def __acall__(self, request):
        return self._add(await self.get_response(request))
