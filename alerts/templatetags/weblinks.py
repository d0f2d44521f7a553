"""{% load weblinks %} … <a href="{{ url|http_url }}">: an href is only ever an http(s) URL."""

from __future__ import annotations

from django import template

from alerts import weblinks

register = template.Library()


@register.filter
def http_url(value: object) -> str:
    return weblinks.http_url(value)
