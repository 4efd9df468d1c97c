"""A child process with a registered listener; prints every delivered event as
`<offset> <key> <value>` and exits when it has seen COUNT events.

usage: listener.py KEY COUNT [CURSOR]
"""

import sys
import threading

from aiflow_lite.ns.client import NotificationClient

key, count = sys.argv[1], int(sys.argv[2])
cursor = sys.argv[3] if len(sys.argv) > 3 else None
seen = []
done = threading.Event()


def process(events):
    for e in events:
        sys.stdout.write(f"{e.offset} {e.key} {e.value}\n")
        seen.append(e.offset)
    sys.stdout.flush()
    if len(seen) >= count:
        done.set()


client = NotificationClient()
client.register_listener(process, [key], cursor=cursor, begin_offset=0)
print("ready", flush=True)
done.wait(60)
client.close()
