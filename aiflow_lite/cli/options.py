"""Option decorators shared by the commands, so the same flag means the same thing everywhere."""

from __future__ import annotations

import click

OUTPUT_FORMATS = ("table", "json", "yaml", "plain")

output_option = click.option(
    "-o", "--output", type=click.Choice(OUTPUT_FORMATS), default="table", show_default=True,
    help="Output format.",
)
server_uri_option = click.option(
    "-s", "--server-uri", default=None, metavar="HOST:PORT",
    help="The uri of a notification server; leave out to use the local home.",
)
yes_option = click.option(
    "-y", "--yes", is_flag=True, default=False, help="Do not prompt to confirm. Use with care!"
)
begin_offset_option = click.option(
    "--begin-offset", type=click.IntRange(min=0, max=2**63 - 1), default=None,
    help="Only events after this offset. Defaults to 0.",
)
sender_option = click.option("--sender", default=None, help="Sender of the event.")


def namespace_option(help_text: str = "Namespace of the event. If not set, all namespaces would "
                     "be handled.", default: str | None = None):
    return click.option("-n", "--namespace", default=default, help=help_text)


def begin_time_option(help_text: str = "Only events created at or after this time (ISO 8601)."):
    return click.option("--begin-time", default=None, metavar="ISO-8601", help=help_text)
