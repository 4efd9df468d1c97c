"""A child process that sends events as fast as it can and acknowledges each one on stdout
only after `send_event` returned: `<offset> <key> <value>`.

usage: sender.py NAME COUNT   (COUNT 0 = until killed)
"""

import sys

from aiflow_lite.ns.client import NotificationClient

name, count = sys.argv[1], int(sys.argv[2])
client = NotificationClient(sender=name)
print("ready", flush=True)
i = 0
while count == 0 or i < count:
    event = client.send_event(f"k-{name}", f"{name}:{i}")
    sys.stdout.write(f"{event.offset} {event.key} {event.value}\n")
    sys.stdout.flush()
    i += 1
client.close()
