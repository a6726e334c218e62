"""Starts moto's DynamoDB/SNS server on 127.0.0.1 on a free port, prints the
port, and stops when its standard input closes, which happens when the test
process that spawned it ends, however it ends."""
import sys

from moto.server import ThreadedMotoServer

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
