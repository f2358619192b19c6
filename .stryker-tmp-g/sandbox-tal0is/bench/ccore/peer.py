"""
The C-core gRPC peer: our proto's Download served and fetched by Debian's
python3-grpcio, whose transport is gRPC's C core. Debian ships neither
grpc_tools nor protoc, so the few messages are encoded by hand (the wire
form is in proto/filetransfer.proto) and grpcio moves them as raw bytes.

  peer.py server ROOT             prints its port, serves ROOT's files
  peer.py client HOST:PORT NAME OUT
                                  fetches NAME into OUT, hashing it with
                                  SHA-256 and fsyncing at the end; fails
                                  when the digest differs from the server's

Run it with /usr/bin/python3: the grpc module is Debian's, and another
python3 may come first on PATH.
"""

import hashlib
import os
import sys
from concurrent import futures

import grpc

DOWNLOAD = "/filetransfer.v1.FileService/Download"
CHUNK = 1024 * 1024


def varint(value):
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number, payload):
    """A length-delimited field: tag, length, bytes."""
    return bytes([(number << 3) | 2]) + varint(len(payload)) + payload


def read_varint(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def fields(data):
    """(number, value) for each field: ints for varints, memoryviews for bytes."""
    view = memoryview(data)
    at = 0
    while at < len(data):
        tag, at = read_varint(data, at)
        if tag & 7 == 0:
            value, at = read_varint(data, at)
            yield tag >> 3, value
        elif tag & 7 == 2:
            length, at = read_varint(data, at)
            yield tag >> 3, view[at : at + length]
            at += length
        else:
            raise ValueError(f"wire type {tag & 7} is not used by these messages")


def identity(message):
    return message


class Files:
    """ROOT's files, each with its SHA-256 computed once per version, as our server's digest cache does."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        self.digests = {}

    def open(self, name):
        path = os.path.realpath(os.path.join(self.root, name))
        if not path.startswith(self.root + os.sep):
            raise PermissionError(name)
        fd = os.open(path, os.O_RDONLY)
        st = os.fstat(fd)
        version = f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"
        key = (path, version)
        if key not in self.digests:
            digest = hashlib.sha256()
            position = 0
            while block := os.pread(fd, CHUNK, position):
                digest.update(block)
                position += len(block)
            self.digests[key] = digest.hexdigest()
        return fd, st, version, self.digests[key]


def serve(root):
    files = Files(root)

    def download(request, context):
        name, offset = "", 0
        for number, value in fields(request):
            if number == 1:
                name = bytes(value).decode()
            elif number == 2:
                offset = value
        try:
            fd, st, version, sha256 = files.open(name)
        except OSError as err:
            context.abort(grpc.StatusCode.NOT_FOUND, f"{name}: {err.strerror}")
        try:
            info = (
                field(1, name.encode())
                + b"\x10" + varint(st.st_size)
                + field(3, version.encode())
                + field(4, sha256.encode())
                + b"\x28" + varint(st.st_mtime_ns // 1_000_000)
            )
            yield field(3, info) + (b"\x10" + varint(offset) if offset else b"")
            while offset < st.st_size:
                data = os.pread(fd, CHUNK, offset)
                if not data:
                    context.abort(grpc.StatusCode.ABORTED, f"{name} shrank while it was read")
                yield b"\x10" + varint(offset) + field(1, data)
                offset += len(data)
        finally:
            os.close(fd)

    handler = grpc.method_handlers_generic_handler(
        "filetransfer.v1.FileService",
        {"Download": grpc.unary_stream_rpc_method_handler(download, request_deserializer=identity, response_serializer=identity)},
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


def fetch(target, name, out):
    channel = grpc.insecure_channel(target)
    call = channel.unary_stream(DOWNLOAD, request_serializer=identity, response_deserializer=identity)
    digest = hashlib.sha256()
    expected = ""
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for message in call(field(1, name.encode())):
            for number, value in fields(message):
                if number == 1:
                    digest.update(value)
                    while value:
                        value = value[os.write(fd, value) :]
                elif number == 3:
                    expected = next((bytes(v).decode() for n, v in fields(value) if n == 4), expected)
                elif number == 4:
                    expected = bytes(value).decode()
        os.fsync(fd)
    finally:
        os.close(fd)
        channel.close()
    if digest.hexdigest() != expected:
        sys.exit(f"{name}: SHA-256 {digest.hexdigest()} differs from the server's {expected or '(none sent)'}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["server"] and len(sys.argv) == 3:
        serve(sys.argv[2])
    elif sys.argv[1:2] == ["client"] and len(sys.argv) == 5:
        fetch(*sys.argv[2:])
    else:
        sys.exit("usage: peer.py server ROOT | peer.py client HOST:PORT NAME OUT")
