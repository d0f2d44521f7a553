"""Text from outside (alert summaries, service names, titles) made inert for each chat's markup.

Slack mrkdwn: `&`, `<` and `>` are control characters (`<!channel>`, `<https://x|disguised>`);
Slack's docs ask senders to write them as `&amp;`, `&lt;` and `&gt;`, and nothing else.
Teams (Adaptive Card TextBlock): a Markdown subset (`**bold**`, `[text](url)`, lists, headings);
the characters that start formatting or a link are escaped with a backslash (CommonMark's escape
for ASCII punctuation), and list or heading marks only at the start of a line."""

from __future__ import annotations

import re

SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]~<>])")
MARKDOWN_LINE_MARK = re.compile(r"^([ \t]*)([#+\-=])", re.MULTILINE)
MARKDOWN_NUMBERED = re.compile(r"^([ \t]*\d+)([.)])", re.MULTILINE)


def slack_text(text: str) -> str:
    """Plain text for a Slack mrkdwn field: shown as written, never a mention or a link."""
    return str(text).translate(SLACK_ESCAPES)


def teams_text(text: str) -> str:
    """Plain text for an Adaptive Card TextBlock: shown as written, never a link or formatting."""
    text = MARKDOWN_INLINE.sub(r"\\\1", str(text))
    text = MARKDOWN_NUMBERED.sub(r"\1\\\2", text)
    return MARKDOWN_LINE_MARK.sub(r"\1\\\2", text)
