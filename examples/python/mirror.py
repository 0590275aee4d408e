#!/usr/bin/env python3
"""Keep a copy of the store's activities and treaty actions: list, then watch.

An example partner-system client for the Project on Cybercrime's system of
record, following the list-then-watch pattern of coe.cybercrime.v1.ChangeService:

1. list every activity and treaty action; each list answer says the position
   of the store's change log it shows (change_sequence);
2. watch the changes after the smallest of those positions (WatchChanges), and
   apply each: created and updated records are stored, deleted ones removed;
   a change at or before the position of its own collection's list is passed
   over (that list shows it already);
3. when the stream ends (the server went away, a proxy cut it, its lifetime
   ended), watch again from the last sequence received, on the next address
   given (replicas of one store share one change log);
4. on a RESET event or OUT_OF_RANGE, list everything again.

Usage:
    python3 mirror.py ADDRESS[,ADDRESS...] [--token TOKEN] [--until SEQUENCE]

    ADDRESS   host:port of a server; several (replicas) are tried in turn
    --token   a bearer token, when the server requires one for reads
    --until   stop once the copy has reached this sequence, and print the copy
              as JSON on the last line (otherwise, follow until interrupted)

Each change applied is printed as "SEQUENCE TYPE NAME"; each resume as
"resume SEQUENCE on ADDRESS". Dependencies: grpcio and grpcio-tools
(requirements.txt); the stubs are generated from ../../proto at run time.
"""

import argparse
import importlib
import json
import sys
import tempfile
import time

import grpc
from google.protobuf import json_format

from status_table import channel_options, generate_stubs


def key_of_action(action):
    """A treaty action's key in the copy: its treaty, state and kind."""
    return f"{action.treaty}/{action.country}/{action.kind}"


class Mirror:
    """The copy: records by name (activities) or key (treaty actions), and the last sequence applied."""

    def __init__(self, pb, metadata):
        self.pb = pb
        self.metadata = metadata
        self.records = {}
        self.sequence = 0
        # The change_sequence of each collection's list: a change at or before it is in the list already.
        self.listed_at = {"activity": 0, "treaty_action": 0}

    def list_all(self, channel):
        """List everything again; the copy is then the store at the lists' smallest change_sequence."""
        activity, treaty = self.pb["activity"], self.pb["treaty"]
        activities = self.pb["activity_grpc"].ActivityServiceStub(channel)
        treaties = self.pb["treaty_grpc"].TreatyServiceStub(channel)
        records, listed_at = {}, {}
        token = ""
        while True:
            page = activities.ListActivities(
                activity.ListActivitiesRequest(page_size=1000, page_token=token), metadata=self.metadata, timeout=30
            )
            listed_at.setdefault("activity", page.change_sequence)  # the first page's
            for a in page.activities:
                records[a.name] = json_format.MessageToDict(a)
            token = page.next_page_token
            if not token:
                break
        token = ""
        while True:
            page = treaties.ListTreatyActions(
                treaty.ListTreatyActionsRequest(page_size=1000, page_token=token), metadata=self.metadata, timeout=30
            )
            listed_at.setdefault("treaty_action", page.change_sequence)
            for t in page.treaty_actions:
                # `derived` is computed when read, from other facts: the feed carries the action as recorded.
                t.ClearField("derived")
                records[key_of_action(t)] = json_format.MessageToDict(t)
            token = page.next_page_token
            if not token:
                break
        self.records = records
        self.listed_at = listed_at
        self.sequence = min(listed_at.values())  # watch from the smallest
        print(f"listed {len(records)} records at {self.sequence}", flush=True)

    def apply(self, event):
        """Apply one change (or heartbeat); answer False for a RESET (list again)."""
        changes = self.pb["changes"]
        kind = changes.ChangeType.Name(event.type)
        if event.type == changes.CHANGE_TYPE_HEARTBEAT:
            self.sequence = event.sequence
            return True
        if event.type == changes.CHANGE_TYPE_RESET:
            print(f"{event.sequence} {kind} {event.reset_reason}", flush=True)
            return False
        which = event.WhichOneof("record")
        if which == "activity":
            key, record = event.activity.name, json_format.MessageToDict(event.activity)
        elif which == "treaty_action":
            key, record = key_of_action(event.treaty_action), json_format.MessageToDict(event.treaty_action)
        else:
            key, record = None, None  # a record this copy does not keep (a study, an organisation...)
        if key is not None and event.sequence <= self.listed_at[which]:
            # The list of this collection was read later than the smallest position: it shows this change.
            self.sequence = event.sequence
            print(f"{event.sequence} PASSED_OVER {event.name}", flush=True)
            return True
        if key is not None:
            if event.type == changes.CHANGE_TYPE_DELETED:
                self.records.pop(key, None)
            else:
                self.records[key] = record
        self.sequence = event.sequence
        print(f"{event.sequence} {kind} {event.name}", flush=True)
        return True


def main(argv):
    parser = argparse.ArgumentParser(description="Keep a copy of the store: list, then watch.")
    parser.add_argument("addresses", help="host:port[,host:port...] of the servers (replicas of one store)")
    parser.add_argument("--token", default="", help="a bearer token, when reads need one")
    parser.add_argument("--until", type=int, default=None, help="stop at this sequence and print the copy")
    args = parser.parse_args(argv[1:])
    addresses = args.addresses.split(",")
    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []

    with tempfile.TemporaryDirectory() as out_dir:
        generate_stubs(out_dir)
        pb = {
            name: importlib.import_module(f"coe.cybercrime.v1.{module}")
            for name, module in [
                ("activity", "activity_pb2"),
                ("activity_grpc", "activity_pb2_grpc"),
                ("treaty", "treaty_pb2"),
                ("treaty_grpc", "treaty_pb2_grpc"),
                ("changes", "changes_pb2"),
                ("changes_grpc", "changes_pb2_grpc"),
            ]
        }

    mirror = Mirror(pb, metadata)
    turn, listed, failures = 0, False, 0
    while args.until is None or mirror.sequence < args.until:
        address = addresses[turn % len(addresses)]
        try:
            with grpc.insecure_channel(address, options=channel_options()) as channel:
                if not listed:
                    mirror.list_all(channel)
                    listed = True
                else:
                    print(f"resume {mirror.sequence} on {address}", flush=True)
                stub = pb["changes_grpc"].ChangeServiceStub(channel)
                request = pb["changes"].WatchChangesRequest(start_after_sequence=mirror.sequence)
                for event in stub.WatchChanges(request, metadata=metadata):
                    failures = 0
                    if not mirror.apply(event):
                        listed = False
                        break
                    if args.until is not None and mirror.sequence >= args.until:
                        break
                else:
                    turn += 1  # the stream ended without an error (e.g. the server shut down): the next address
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.OUT_OF_RANGE:
                listed = False  # the log does not hold our sequence: list again
            print(f"stream ended: {err.code().name} on {address}", flush=True)
            turn += 1
            failures += 1
            if failures > 20:
                print(f"error: {err.code().name}: {err.details()}", file=sys.stderr)
                return 1
            time.sleep(min(0.1 * failures, 2.0))
    print(json.dumps({"sequence": mirror.sequence, "records": mirror.records}, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
