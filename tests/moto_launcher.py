"""Starts moto's DynamoDB/SNS server on 127.0.0.1 on a free port, prints the
port, and stops when its standard input closes, which happens when the test
process that spawned it ends, however it ends.

Requests are served one at a time. DynamoDB makes each conditional write
and each transaction atomic; moto's threaded server does not (two
concurrent transactions can both pass a condition), so without this lock a
race test would measure moto, not the service."""
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def one_at_a_time(environ, start_response):
    with lock:
        return list(app(environ, start_response))


server = make_server("127.0.0.1", 0, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_address[1], flush=True)
sys.stdin.read()
server.shutdown()
