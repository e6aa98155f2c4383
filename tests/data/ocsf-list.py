#!/usr/bin/env python3
"""Writes ocsf-1.7.0-rdp_activity.tsv: every attribute path of the OCSF 1.7.0 RDP Activity
class (4005) down to three levels, with its OCSF type and whether it is an array, from the
compiled schema JSON that the PyPI package pydantic-ocsf 3.0.0 ships (ocsf/schemas/v1_7_0.json,
Apache-2.0). Run: python3 ocsf-list.py PATH/TO/v1_7_0.json > ocsf-1.7.0-rdp_activity.tsv"""
import json
import sys

s = json.load(open(sys.argv[1]))
dic = s["dictionary"]["attributes"]


def attrs(table, name):
    """An event's or object's attributes, its parents' first (`extends`)."""
    node = table.get(name)
    if node is None:
        return {}
    out = {}
    parent = node.get("extends")
    if parent and parent != name:
        out.update(attrs(table, parent))
    for k, v in node.get("attributes", {}).items():
        if not k.startswith("$"):
            out[k] = v
    return out


def walk(prefix, attributes, depth, seen):
    for name in sorted(attributes):
        d = dic.get(name, {})
        ty = attributes[name].get("type") or d.get("type", "?")
        arr = "array" if d.get("is_array") else "one"
        path = f"{prefix}{name}"
        print(f"{path}\t{ty}\t{arr}")
        if ty in s["objects"] and depth < 3 and ty not in seen:
            walk(path + ".", attrs(s["objects"], ty), depth + 1, seen | {ty})


print(f"# OCSF {s['version']} rdp_activity (class_uid {4000 + s['events']['rdp_activity']['uid']}): path, type, array")
walk("", attrs(s["events"], "rdp_activity"), 0, frozenset())
