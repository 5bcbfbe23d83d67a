"""moto's server on a loopback ephemeral port, for lockgrader (src/backend/moto.ts).

Binds 127.0.0.1:0 itself (no port is guessed, so no race with other
gradings), prints {"port": N} as the first line of stdout, then serves S3 and
DynamoDB (and every other service moto has) on that one port until:
  - it gets SIGTERM or SIGKILL from lockgrader (stopped by its PID), or
  - its stdin reaches end of file: lockgrader holds the other end of the
    pipe, so when lockgrader dies in any way the server ends too, or
  - its parent dies (Linux PR_SET_PDEATHSIG), the same guarantee again.
Nothing of it outlives the grading that started it. Request logging is off.
"""

import ctypes
import json
import logging
import os
import signal
import sys
import threading


def end_with_parent() -> None:
    parent = int(os.environ.get("LOCKGRADER_PARENT_PID", "0"))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    # The parent may have died before prctl took effect.
    if parent and os.getppid() != parent:
        os._exit(0)

    def watch_stdin() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, name="lockgrader-stdin-watch", daemon=True).start()


def main() -> None:
    end_with_parent()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.socket.getsockname()[1]
    # moto builds some URLs from MOTO_PORT; it must be the port really bound.
    os.environ["MOTO_PORT"] = str(port)
    import moto

    print(json.dumps({"port": port, "moto": moto.__version__, "pid": os.getpid()}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
