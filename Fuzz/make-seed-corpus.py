#!/usr/bin/env python3
"""Writes the seed corpus of each fuzz target into Fuzz/Corpus/<target>/.

Seeds are small valid inputs that get the fuzzer past the first checks quickly: the frames from
docs/protocol.md's examples (so they are the protocol's own bytes), a handful of message frames,
operation scripts for the peer-session target, proof transcripts, and YAML configuration files.
Run it again after changing the protocol; the files are committed.
"""
import hashlib
import pathlib
import re
import struct

here = pathlib.Path(__file__).resolve().parent
root = here.parent
corpus = here / "Corpus"


def write(target, name, data):
    directory = corpus / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(data)


def documented_examples():
    """Every `<!-- example: name -->` block of docs/protocol.md, as bytes (leading hex tokens)."""
    lines = (root / "docs" / "protocol.md").read_text().split("\n")
    examples = {}
    for index, line in enumerate(lines):
        match = re.fullmatch(r"<!-- example: (\w+) -->", line)
        if not match:
            continue
        data = bytearray()
        for body in lines[index + 2:]:
            if body.startswith("```"):
                break
            for token in body.split(" "):
                if not token:
                    continue
                if not re.fullmatch(r"[0-9A-F]{2}", token):
                    break
                data.append(int(token, 16))
        examples[match.group(1)] = bytes(data)
    return examples


def frame(type_code, body):
    return struct.pack(">IBB", 2 + len(body), 1, type_code) + body


def handshake(node, cluster=b"fuzz", algorithm=1, method=0, payload=b""):
    body = b"BLOT" + bytes([1, algorithm]) + struct.pack(">Q", node) + bytes([len(cluster)]) + cluster
    body += bytes([method]) + struct.pack(">H", len(payload)) + payload
    return frame(0x01, body)


examples = documented_examples()
frames = {name: data for name, data in examples.items() if name not in ("test_secret", "auth_proof_message")}
frames["vote_request"] = frame(0x12, struct.pack(">QQQB", 7, 3, 2, 1))
frames["heartbeat_response"] = frame(0x15, struct.pack(">QQQQ", 7, 9, 3, 2))
frames["accepted"] = frame(0x02, b"\x00\x00")
frames["bully_coordinator"] = frame(0x22, struct.pack(">Q", 4))
frames["ring_ack"] = frame(0x32, struct.pack(">QQ", 4, 11))
for name, data in frames.items():
    write("fuzz-frame-decoder", name, data)
write("fuzz-frame-decoder", "stream", b"".join(frames.values()))

# fuzz-peer-session: [setup] then operations; op byte: bit 0 = side, (op >> 1) % 4 = kind:
# 0 forward COUNT genuine bytes (0 = all), 1 inject LEN raw bytes, 2 inject a 32-byte proof, 3 drop.
FORWARD_TO_DIALLER, FORWARD_TO_ACCEPTOR = 0x00, 0x01
INJECT_TO_DIALLER, INJECT_TO_ACCEPTOR = 0x02, 0x03
PROOF_TO_ACCEPTOR = 0x05
honest = bytes([FORWARD_TO_ACCEPTOR, 0, FORWARD_TO_DIALLER, 0] * 3)
for setup in range(4):
    write("fuzz-peer-session", f"honest-{setup}", bytes([setup]) + honest)
    write("fuzz-peer-session", f"trickle-{setup}", bytes([setup]) + bytes([FORWARD_TO_ACCEPTOR, 5, FORWARD_TO_DIALLER, 7] * 24))
impostor = handshake(1, method=1, payload=bytes([0x33]) * 32)
write("fuzz-peer-session", "impostor-handshake", bytes([0, INJECT_TO_ACCEPTOR, len(impostor)]) + impostor
      + bytes([PROOF_TO_ACCEPTOR]) + bytes(32) + honest)
message = frame(0x14, struct.pack(">QQQQQ", 5, 1, 0, 0, 0))
write("fuzz-peer-session", "early-message", bytes([0, FORWARD_TO_ACCEPTOR, 0, INJECT_TO_ACCEPTOR, len(message)]) + message + honest)
plain = handshake(2, method=0)
write("fuzz-peer-session", "plain-handshake", bytes([2, INJECT_TO_DIALLER, len(plain)]) + plain + honest)

# fuzz-cluster-secret: secret length / 5, secret, two transcripts, a candidate proof.
for index, length in enumerate([7, 13, 205]):
    secret = hashlib.sha256(bytes([index])).digest() * 40
    transcript = bytes([4]) + b"prod" + bytes([0, index & 1]) + struct.pack(">Q", 1) + bytes([1]) + bytes(range(32)) \
        + struct.pack(">Q", 2) + bytes([1]) + bytes(range(0x80, 0xA0))
    write("fuzz-cluster-secret", f"transcript-{index}",
          bytes([length]) + secret[: length * 5] + transcript + transcript + bytes(32))

# fuzz-configuration: YAML files as an operator writes them, and some that are wrong.
configurations = {
    "full.yaml": """id: 1
listen: 127.0.0.1:7001
http: 127.0.0.1:8001
data_dir: /var/lib/ballot/1
cluster: ballot
election_timeout: 1s
heartbeat_interval: 100ms
max_frame_size: 65536
algorithm: raft
peers:
  2: 127.0.0.1:7002
  3: "[::1]:7003"
""",
    "minimal.yaml": "id: 3\nlisten: 0.0.0.0:7003\ndata_dir: ./data/3\n",
    "flow.yaml": "{id: 2, listen: 'localhost:7002', data_dir: /tmp/b, peers: {1: 127.0.0.1:7001}, algorithm: ring}\n",
    "anchors.yaml": "base: &b 127.0.0.1:7001\nid: 1\nlisten: *b\ndata_dir: d\n",
    "wrong-types.yaml": "id: one\nlisten: [1, 2]\nelection_timeout: 1000\npeers: nope\n",
    "misspelt.yaml": "ID: 1\nlisten-address: 127.0.0.1:1\nheartbeat: 5ms\n",
    "flags.yaml": "1h30m\n2=10.0.0.2:7002\n[fe80::1%eth0]:9\n",
}
for name, text in configurations.items():
    write("fuzz-configuration", name, text.encode())
