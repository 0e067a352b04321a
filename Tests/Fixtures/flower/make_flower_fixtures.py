#!/usr/bin/env python3
"""Golden Flower 1.42 objects for the Swift client's codec tests, made by flwr's own code.

Writes objects.json: for each case, the objects flwr's `deflate()` produces (hex bytes, ids) for records
whose values are fixed here, so the Swift encoder can be checked byte for byte and the decoder against
what a real ServerApp sends. usage: python3 make_flower_fixtures.py (in a venv with flwr==1.42.0)
"""
import collections
import hashlib
import json
import os

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict

here = os.path.dirname(os.path.abspath(__file__))


def objects_of(record):
    """Every object under `record`, as flwr deflates them: {object_id: hex bytes}, plus the root id."""
    out = {}

    def walk(obj):
        for child in (obj.children or {}).values():
            walk(child)
        content = obj.deflate()
        out[hashlib.sha256(content).hexdigest()] = content.hex()

    walk(record)
    return record.object_id, out


weights = np.arange(12, dtype=np.float32).reshape(4, 3) / 7 - 0.5
bias = np.array([0.25, -1.5, 3.0], dtype=np.float32)
arrays = ArrayRecord(collections.OrderedDict([("classifier.weight", Array(weights)), ("classifier.bias", Array(bias))]))
metrics = MetricRecord({"num-examples": 30, "train_loss": 0.75})
config = ConfigRecord({"lr": 0.1, "server-round": 2, "note": "hello"})
content = RecordDict({"arrays": arrays, "config": config})
cases = {}
for name, record in [("array_record", arrays), ("metric_record", metrics), ("config_record", config), ("record_dict", content)]:
    root, objects = objects_of(record)
    cases[name] = {"root": root, "objects": objects}
cases["values"] = {"classifier.weight": {"shape": [4, 3], "data": weights.ravel().tolist()},
                   "classifier.bias": {"shape": [3], "data": bias.ravel().tolist()}}
with open(os.path.join(here, "objects.json"), "w") as f:
    json.dump(cases, f, indent=1, sort_keys=True)
print("wrote objects.json:", {k: len(v.get("objects", {})) for k, v in cases.items()})
