"""A real SMTP server for the email tests (aiosmtpd), on 127.0.0.1.

    python3 tests/smtp/server.py OUT_DIR [--refuse-first N]

Prints the port it listens on, then writes each accepted message to OUT_DIR as
<n>.eml (the envelope's recipients first, one per line, then a blank line, then the
message). With --refuse-first N, the first N messages are refused with a temporary
failure (451), as a busy server does.
"""

import argparse
import asyncio
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out, refuse):
        self.out = out
        self.refuse = refuse
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.count += 1
        path = os.path.join(self.out, f"{self.count}.eml")
        with open(path + ".part", "wb") as f:
            f.write(("\n".join(envelope.rcpt_tos) + "\n\n").encode())
            f.write(envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode())
        os.rename(path + ".part", path)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--refuse-first", type=int, default=0)
    args = parser.parse_args()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler(args.out, args.refuse_first), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
