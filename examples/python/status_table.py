#!/usr/bin/env python3
"""Print the status table of the Convention on Cybercrime (ETS 185) at a date.

An example partner-system client for the Project on Cybercrime's system of
record. It calls coe.cybercrime.v1.TreatyService/GetTreatyStatus over
plaintext gRPC and prints each status group with its states, then the figures
the progress report states beside the computed table.

Usage:
    python3 status_table.py [--gzip] ADDRESS [YYYY-MM-DD]

    ADDRESS  host:port of the server, e.g. 127.0.0.1:50051
    DATE     the date of the table (default 2007-11-30, the progress report's date)
    --gzip   compress the requests with gzip (the server answers in gzip too, as
             grpcio accepts it)

Dependencies: grpcio and grpcio-tools (see requirements.txt). The Python stubs
are generated from ../../proto at run time, so the example always matches the
contract in this repository.
"""

import importlib
import importlib.resources
import pathlib
import sys
import tempfile

import grpc
from grpc_tools import protoc

PROTO_DIR = pathlib.Path(__file__).resolve().parent.parent.parent / "proto"
# The contract's gRPC service config (timeouts; reads retried on UNAVAILABLE, writes never), the same file the
# Rust client crate applies.
SERVICE_CONFIG = pathlib.Path(__file__).resolve().parent.parent.parent / "crates/cybercrime-api/service_config.json"


def channel_options():
    """The channel options that apply the service config: retries enabled, the config as JSON."""
    return [("grpc.enable_retries", 1), ("grpc.service_config", SERVICE_CONFIG.read_text())]

# Headings of the status table, in the order the server returns the groups.
HEADINGS = {
    "STATE_STATUS_PARTY": "Ratified",
    "STATE_STATUS_SIGNATORY": "Signed",
    "STATE_STATUS_NOT_SIGNED": "Not signed",
    "STATE_STATUS_INVITED_TO_ACCEDE": "Invited to accede",
    "STATE_STATUS_ACCESSION_REQUESTED": "Request for accession",
}


def generate_stubs(out_dir):
    """Compile the .proto files into out_dir and make them importable.

    A partner system would usually generate the stubs once at build time;
    doing it here keeps the example self-contained.
    """
    # The well-known types (google/protobuf/*.proto) ship inside grpc_tools.
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    protos = [str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto")]
    rc = protoc.main([
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *protos,
    ])
    if rc != 0:
        sys.exit(f"error: protoc failed on {PROTO_DIR} (exit {rc})")
    sys.path.insert(0, str(out_dir))


def parse_date(text, date_pb2):
    """Turn "YYYY-MM-DD" into a google.type.Date.

    Only the shape is checked here; the server validates the date itself
    (e.g. a month of 13 is answered with INVALID_ARGUMENT).
    """
    try:
        year, month, day = (int(part) for part in text.split("-"))
    except ValueError:
        sys.exit(f"error: date must be YYYY-MM-DD, got {text!r}")
    return date_pb2.Date(year=year, month=month, day=day)


def main(argv):
    gzip = "--gzip" in argv[1:]
    argv = [arg for arg in argv if arg != "--gzip"]
    if len(argv) not in (2, 3):
        sys.exit(f"usage: {argv[0]} [--gzip] ADDRESS [YYYY-MM-DD]")
    address = argv[1]
    date_text = argv[2] if len(argv) == 3 else "2007-11-30"

    with tempfile.TemporaryDirectory() as out_dir:
        generate_stubs(out_dir)
        date_pb2 = importlib.import_module("google.type.date_pb2")
        treaty_pb2 = importlib.import_module("coe.cybercrime.v1.treaty_pb2")
        treaty_pb2_grpc = importlib.import_module("coe.cybercrime.v1.treaty_pb2_grpc")

    request = treaty_pb2.GetTreatyStatusRequest(
        name="treaties/185",
        as_of=parse_date(date_text, date_pb2),
    )

    # Plaintext channel; use grpc.secure_channel with credentials for TLS, and
    # pass metadata=[("authorization", "Bearer ...")] if the server needs a token.
    compression = grpc.Compression.Gzip if gzip else grpc.Compression.NoCompression
    with grpc.insecure_channel(address, options=channel_options(), compression=compression) as channel:
        stub = treaty_pb2_grpc.TreatyServiceStub(channel)
        try:
            status = stub.GetTreatyStatus(request, timeout=10)
        except grpc.RpcError as err:
            print(f"error: {err.code().name}: {err.details()}", file=sys.stderr)
            return 1

    # Past the date through which the treaty's record is complete, only parties are certain: say so first.
    if status.past_record:
        print(status.record_note)
    # One group per status, in enum order; each lists its states by name.
    for group in status.groups:
        status_name = treaty_pb2.StateStatus.Name(group.status)
        uncertain = f", {group.uncertain_count} uncertain" if group.uncertain_count else ""
        print(f"{HEADINGS.get(status_name, status_name)} ({group.count}{uncertain}):")
        for state in group.states:
            # "uncertain": a date known only within bounds straddles as_of, or as_of is past the record; the
            # reason says which, in plain words.
            suffix = f" (uncertain: {state.reason})" if state.uncertain else ""
            print(f"  {state.display_name}{suffix}")

    # The figures the reports state, to compare with the computed counts.
    for figure in status.reported_figures:
        print(f"reported: {figure.label} = {figure.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
