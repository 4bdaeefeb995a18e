"""Connector kinds known to Veilleur, imported lazily by dotted path."""

from __future__ import annotations

from importlib import import_module

from veilleur.connectors.base import Connector

# kind -> "module:attribute". Each new connector adds one line here.
KINDS: dict[str, str] = {
    "file": "veilleur.connectors.file_import:FileImportConnector",
    "replay": "veilleur.connectors.replay:ReplayConnector",
    "rss": "veilleur.connectors.rss:RssConnector",
    "mastodon": "veilleur.connectors.mastodon:MastodonConnector",
    "bluesky": "veilleur.connectors.bluesky:BlueskyConnector",
    "hackernews": "veilleur.connectors.hackernews:HackerNewsConnector",
    "youtube": "veilleur.connectors.youtube:YouTubeConnector",
    "appstore": "veilleur.connectors.appstore:AppStoreConnector",
    "googleplay": "veilleur.connectors.googleplay:GooglePlayConnector",
    "gdelt": "veilleur.connectors.gdelt:GdeltConnector",
    "webhook": "veilleur.connectors.webhook:WebhookConnector",
    "imap": "veilleur.connectors.imap:ImapConnector",
}


# Kinds that read files on the server's disk. Only someone with a shell on the server
# (the CLI) may create them: through the web or the API, a workspace manager could
# otherwise read any file the server can.
SHELL_ONLY_KINDS = frozenset({"file", "replay"})


class UnknownKind(LookupError):
    pass


class KindNotAllowed(PermissionError):
    """The kind exists but may not be created from where the request came from."""


def get_connector(kind: str) -> Connector:
    """An instance of the connector for ``kind``; UnknownKind lists the valid ones."""
    try:
        target = KINDS[kind]
    except KeyError:
        raise UnknownKind(
            f"unknown source kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}"
        ) from None
    module_name, _, attr = target.partition(":")
    connector: Connector = getattr(import_module(module_name), attr)()
    return connector
